import { resolve } from "node:path";
import { defineConfig } from "vite";

// The dev server stands in for the edge: each API prefix goes to its service's port, so the
// page keeps using relative URLs exactly as it does behind nginx.
const env = process.env;
const port = (name: string, fallback: number): string => `http://127.0.0.1:${env[name] ?? fallback}`;
const routes: Record<string, string> = {
  "/v1/aois": port("AOI_PORT", 8101),
  "/v1/tiles": port("TILING_PORT", 8102),
  "/v1/coverage": port("TILING_PORT", 8102),
  "/v1/models": port("PRICING_PORT", 8103),
  "/v1/estimates": port("PRICING_PORT", 8103),
  "/v1/quotes": port("PRICING_PORT", 8103),
  "/v1/carts": port("CART_PORT", 8104),
  "/v1/checkouts": port("CHECKOUT_PORT", 8105),
  "/v1/orders": port("CHECKOUT_PORT", 8105),
  "/v1/accounts": port("CHECKOUT_PORT", 8105),
  "/v1/renewals": port("CHECKOUT_PORT", 8105),
};

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: {
        main: resolve(__dirname, "index.html"),
        api: resolve(__dirname, "api.html"),
      },
    },
  },
  server: {
    host: "127.0.0.1",
    proxy: routes,
  },
});
