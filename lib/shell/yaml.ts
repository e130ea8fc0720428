import { vendored } from './vendor.ts';
import type * as yamlModule from 'yaml';

/**
 * yaml, loaded through require(): its Node build is CommonJS, and importing
 * it as an ES module makes Node scan every file it re-exports, through
 * tsx's loader hooks, at every start (see shell/zod.ts for the figures).
 */
const yaml = vendored<typeof yamlModule>('yaml');

export const { isAlias, isMap, isScalar, isSeq, parseDocument, parse } = yaml;
export const LineCounter = yaml.LineCounter;
export type LineCounter = yamlModule.LineCounter;
export type { Document, Node, ScalarTag, Tags } from 'yaml';
