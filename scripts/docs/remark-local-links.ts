// A remark plugin for the links remark-validate-links does not see:
// - an href or src in raw HTML (`<a href="docs/page.md">`, `<img src=...>`)
//   must name a file that exists, relative to the page;
// - a root-absolute link (`[x](/docs/page.md)`, or `/...` in HTML) is refused:
//   GitHub resolves it against the site, not the repository, and a copy of
//   the manual elsewhere (npm, a fork's pages) breaks, so links are relative.
// Each problem is a warning at the node's position; check-links.ts runs
// remark with --frail, so a warning fails the check.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Root } from 'mdast';
import { visit } from 'unist-util-visit';
import type { VFile } from 'vfile';

const attribute = /\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi;
/** A URL with a scheme (http:, mailto:) or protocol-relative: not a file of the tree. */
const external = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

const rootAbsolute = (url: string) => url.startsWith('/') && !url.startsWith('//');

export default function remarkLocalLinks() {
  return (tree: Root, file: VFile) => {
    const here = dirname(resolve(file.cwd, file.path));
    visit(tree, (node) => {
      if ((node.type === 'link' || node.type === 'definition' || node.type === 'image') && rootAbsolute(node.url)) {
        file.message(`Root-absolute link \`${node.url}\`: write it relative to this file`, node);
      }
      if (node.type !== 'html') return;
      for (const match of node.value.matchAll(attribute)) {
        const url = match[1] ?? match[2] ?? '';
        if (url === '' || url.startsWith('#') || external.test(url)) continue;
        if (rootAbsolute(url)) {
          file.message(`Root-absolute link \`${url}\` in HTML: write it relative to this file`, node);
          continue;
        }
        const target = decodeURIComponent(url.replace(/[?#].*$/, ''));
        if (!existsSync(resolve(here, target))) file.message(`Cannot find file \`${url}\` (an HTML link)`, node);
      }
    });
  };
}
