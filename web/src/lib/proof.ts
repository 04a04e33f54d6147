// Checks a ledger event's inclusion proof in the browser, trusting nothing the server computed:
// the leaf is the event's own hash, the audit path is folded into a root with SHA-256 (RFC 9162
// §2.1.3.2, the same hashing as src/ledger/merkle.hpp), the root must equal the signed
// checkpoint's, and the checkpoint's Ed25519 signature must verify over the message rebuilt from
// its fields (src/ledger/checkpoint.cpp CheckpointMessage) with its public key, whose id is the
// first 16 hex digits of SHA-256(key). Maintained libraries: @noble/hashes, @noble/ed25519.
import * as ed from "@noble/ed25519";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";

ed.hashes.sha512 = sha512;

export interface ProofResult {
  ok: boolean;
  reason: string;
  leaf: number;
  size: number;
  key: string;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const leafHash = (d: Uint8Array) => sha256(concat(Uint8Array.of(0), d));
const nodeHash = (l: Uint8Array, r: Uint8Array) => sha256(concat(Uint8Array.of(1), l, r));

// RFC 9162 §2.1.3.2; null when the path is malformed for (index, size).
export function rootFromPath(leafData: Uint8Array, index: number, size: number,
                             path: Uint8Array[]): Uint8Array | null {
  if (index >= size) return null;
  let fn = index, sn = size - 1;
  let r = leafHash(leafData);
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

// `event` is GET /events/{seq}; `proof` is GET /events/{seq}/proof.
export function checkProof(event: any, proof: any): ProofResult {
  const cp = proof.checkpoint || {};
  const result = (ok: boolean, reason: string): ProofResult =>
    ({ ok, reason, leaf: proof.leaf_index, size: proof.tree_size, key: cp.key_id || "" });
  try {
    if (proof.leaf_hash !== event.hash) return result(false, "the proof is for another event hash");
    if (proof.tree_size !== cp.tree_size) return result(false, "the proof's tree size is not the checkpoint's");
    const root = rootFromPath(hexToBytes(event.hash), proof.leaf_index, proof.tree_size,
      (proof.audit_path || []).map((x: string) => hexToBytes(x)));
    if (!root) return result(false, "the audit path does not fit the tree size");
    if (bytesToHex(root) !== cp.root_hash) return result(false, "the audit path leads to another root");
    const pub = hexToBytes(cp.public_key);
    if (bytesToHex(sha256(pub)).slice(0, 16) !== cp.key_id) return result(false, "the key id does not match the key");
    const signedUs = String(cp.signed_message || "").split("\n")[4] || "";
    const signedMs = Date.parse(String(cp.signed_at).replace(/(\.\d{3})\d+/, "$1"));
    if (!/^\d+$/.test(signedUs) || Number.isNaN(signedMs) ||
        Math.abs(Number(signedUs) / 1000 - signedMs) > 1000) {
      return result(false, "the signing time does not match the checkpoint");
    }
    const message = "opsbox-checkpoint-v1\n" + cp.tenant_id + "\n" + cp.tree_size + "\n" + cp.root_hash +
      "\n" + signedUs + "\n";
    if (!ed.verify(hexToBytes(cp.signature), utf8ToBytes(message), pub)) {
      return result(false, "the Ed25519 signature is not valid");
    }
    return result(true, "");
  } catch (e) {
    return result(false, (e as Error).message);
  }
}
