import type { PostureReport, PostureResult } from '../findings/posture.js';

const CHECK: Record<PostureResult['check'], string> = { spf: 'SPF', dmarc: 'DMARC', mx: 'MX', ptr: 'PTR' };
const STATUS: Record<PostureResult['status'], string> = { ok: 'ok', missing: 'MISSING', misaligned: 'MISALIGNED', not_checked: 'not checked' };

/** The "Sender posture (DNS)" section of the text report (`--check-dns`): one row per domain or IP, then what is wrong. */
export function renderPostureText(report: PostureReport): string {
  const lines = ['', 'Sender posture (DNS)'];
  if (!report.checked) {
    lines.push(`  DNS not checked: ${report.reason ?? 'no DNS server answered'}`);
    return lines.join('\n') + '\n';
  }
  if (report.domains.length === 0 && report.ips.length === 0) {
    lines.push('  nothing to check: no sender_auth_failed, reverse_dns_failed or sender_address_invalid refusal named a sender domain or IP');
    return lines.join('\n') + '\n';
  }
  lines.push(`  servers: ${report.servers.join(', ')} · ${report.elapsedMs} ms · the envelope sender's domain (MTAs do not log the header From)`);
  const width = Math.min(40, Math.max(8, ...report.domains.map((d) => d.domain.length), ...report.ips.map((i) => i.ip.length)));
  const row = (subject: string, results: PostureResult[]) => {
    lines.push(`  ${subject.padEnd(width)}  ${results.map((r) => `${CHECK[r.check]} ${STATUS[r.status]}`).join(' · ')}`);
    for (const r of results) if (r.status !== 'ok') lines.push(`  ${' '.repeat(width)}    ${CHECK[r.check]}: ${r.detail}`);
  };
  for (const d of report.domains) row(d.domain, [d.spf, d.dmarc, d.mx]);
  for (const i of report.ips) row(i.ip, [i.ptr]);
  if (report.skipped.domains + report.skipped.ips > 0) {
    lines.push(`  not looked up (beyond the first 50, most refused first): ${report.skipped.domains} domain(s), ${report.skipped.ips} IP(s)`);
  }
  return lines.join('\n') + '\n';
}
