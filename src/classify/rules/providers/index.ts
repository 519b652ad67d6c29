/** Per-provider rule tables, by provider id: walked only for the provider that answered. */
import type { ProviderId } from '../../providers.js';
import type { Rule } from '../types.js';
import { amazonses } from './amazonses.js';
import { apple } from './apple.js';
import { barracuda } from './barracuda.js';
import { cisco } from './cisco.js';
import { cox } from './cox.js';
import { gmx } from './gmx.js';
import { godaddy } from './godaddy.js';
import { google } from './google.js';
import { mailru } from './mailru.js';
import { messagelabs } from './messagelabs.js';
import { microsoft } from './microsoft.js';
import { mimecast } from './mimecast.js';
import { orange } from './orange.js';
import { proofpoint } from './proofpoint.js';
import { qq } from './qq.js';
import { trendmicro } from './trendmicro.js';
import { yahoo } from './yahoo.js';
import { yandex } from './yandex.js';
import { zoho } from './zoho.js';

export const PROVIDER_RULES: Readonly<Partial<Record<ProviderId, readonly Rule[]>>> = {
  google,
  microsoft,
  yahoo,
  apple,
  mimecast,
  proofpoint,
  barracuda,
  cisco,
  trendmicro,
  messagelabs,
  godaddy,
  cox,
  orange,
  gmx,
  zoho,
  qq,
  mailru,
  yandex,
  amazonses,
};
