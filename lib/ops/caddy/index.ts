export { site, renderCaddyfile, siteSchema } from './site.ts';
