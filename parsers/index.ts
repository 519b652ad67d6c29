/** The parsers mta550 knows, in the order the format sniffer tries them (STYLE.md habit 3). */
import type { Parser } from '../src/model/parser.js';
import { appParser } from './app/index.js';
import { eximParser } from './exim/index.js';
import { exchangeParser } from './exchange/index.js';
import { postfixParser } from './postfix/index.js';

/** Application logs last: their sniffer scores below an MTA parser that reads the lines as well. */
export const parsers: readonly Parser[] = [postfixParser, eximParser, exchangeParser, appParser];
