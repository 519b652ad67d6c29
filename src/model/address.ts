import { domainToASCII } from 'node:url';

/**
 * The domain of an address, lower-cased in IDNA ASCII form (`bücher.example` -> `xn--bcher-kva.example`)
 * so one domain groups together whichever form the log wrote. Null when the address has no `@`.
 */
export function domainOf(address: string | null): string | null {
  if (address === null) return null;
  const at = address.lastIndexOf('@');
  if (at < 0 || at === address.length - 1) return null;
  let domain = address.slice(at + 1).toLowerCase();
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  if (domain.startsWith('[')) return domain; // address literal: [192.0.2.1]
  // Pure ASCII needs no IDNA pass (and domainToASCII rejects some odd-but-loggable names).
  if (/^[\x21-\x7e]*$/.test(domain)) return domain;
  const ascii = domainToASCII(domain);
  return ascii === '' ? domain : ascii;
}
