/** Cox, Charter/Spectrum, Comcast/Xfinity and AT&T: `AUP#` codes and the like. */
import type { Rule } from '../types.js';

export const cox: readonly Rule[] = [
  // 554 5.7.1 - ERROR: Mail refused - <203.0.113.7> - See http://cox.com/cxbl (AUP#CXBL)
  { id: 'cox.cxbl', subtype: 'blocklisted', text: /aup#cxbl|\bcxbl\b|aup#ipbl|\bipbl\d*|blocked for abuse|\bbl0000\d+|on (?:our|the) block ?list/, detail: 'listed_entity=ip' },
  // 554 5.7.1 - ERROR: Mail refused - <203.0.113.7> - Reverse DNS lookup failed (AUP#CXDNS)
  { id: 'cox.cxdns', subtype: 'reverse_dns_failed', text: /aup#cxdns|\bcxdns\b|rdns|reverse dns/ },
  // 452/550 ... too many connections / messages (AUP#CXRL / AUP#MXRT)
  { id: 'cox.cxrl', subtype: 'rate_limited', text: /aup#(?:cxrl|mxrt|rtr)|too many/ },
  // 554 5.7.1 ... spam content (AUP#CXMJ)
  { id: 'cox.cxmj', subtype: 'spam_content', text: /aup#cxmj|\bspam\b/ },
  // 550 5.1.1 <x@comcast.net> Not our Customer
  { id: 'cox.not-our-customer', subtype: 'recipient_unknown', text: /not our customer|invalid recipient|recipient (?:address )?rejected|user unknown/ },
  // 550 5.1.0 ... sender rejected (AUP#CXSNDR)
  { id: 'cox.cxsndr', subtype: 'sender_address_invalid', text: /aup#cxsndr/ },
];
