declare module "swagger-ui-dist/swagger-ui-es-bundle.js" {
  const SwaggerUIBundle: (options: Record<string, unknown>) => unknown;
  export default SwaggerUIBundle;
}
declare module "world-atlas/countries-50m.json" {
  const topology: unknown;
  export default topology;
}
declare module "world-atlas/countries-110m.json" {
  const topology: unknown;
  export default topology;
}
