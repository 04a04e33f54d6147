// Page markup imported as text (Vite's ?raw suffix).
declare module "*.html?raw" {
  const text: string;
  export default text;
}
