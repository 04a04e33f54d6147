"""What the two-node test and the two-node benchmark (bench/cluster/cluster_bench.py) share:
the ledger's shard function and a free loopback port. No side effects on import."""
import socket


def shard_of(tenant, shards):
    """FNV-1a 64 of the tenant id's bytes modulo the shard count (ledger::ShardOf)."""
    h = 14695981039346656037
    for b in tenant.encode():
        h ^= b
        h = (h * 1099511628211) % (1 << 64)
    return h % shards


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
