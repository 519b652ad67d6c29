/** How `mta550 explain` shows a classification to a person. */
import type { Classification, Evidence } from '../classify/classify.js';

function evidenceText(e: Evidence): string {
  switch (e.kind) {
    case 'code':
      return `reply code ${e.value}`;
    case 'enhanced_code':
      return `enhanced status ${e.value}`;
    case 'stage':
      return `stage ${e.value}`;
    case 'provider':
      return `provider ${e.value} (${e.via ?? 'unknown'})`;
    case 'provider_token':
      return `provider rule ${e.via ?? ''} matched "${e.value}"`;
    case 'text_marker':
      return `text marker "${e.value}" (${e.via ?? ''})`;
  }
}

export function renderExplanation(c: Classification): string {
  const rows: [string, string][] = [
    ['cause', `${c.subtype}${c.detail !== null ? ` (${c.detail})` : ''}`],
    ['who acts', c.side],
    ['provider', `${c.provider} (found by ${c.providerVia.replace('_', ' ')})`],
    ['stage', c.stage ?? 'not visible in the text'],
    ['code', [c.code ?? '-', c.enhancedStatus ?? '-'].join(' ')],
    ['confidence', c.confidence],
    ['next move', c.nextMove],
    ['evidence', c.evidence.map(evidenceText).join('; ')],
    ['reply', c.text === '' ? '(empty)' : c.text],
  ];
  return rows.map(([k, v]) => `${(k + ':').padEnd(12)} ${v}`).join('\n') + '\n';
}
