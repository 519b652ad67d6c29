/** Cisco Secure Email / IronPort (`*.iphmx.com`). */
import type { Rule } from '../types.js';

export const cisco: readonly Rule[] = [
  // 550 #5.1.0 Address rejected. (IronPort's default for an invalid recipient via LDAP accept query)
  { id: 'cisco.5.1.0-address-rejected', subtype: 'recipient_unknown', enhanced: /^5\.1\.0$/, text: /address rejected/ },
  // 554 Message refused. / 550 5.7.1 Delivery not authorized, message refused (content filter "bounce" action)
  { id: 'cisco.message-refused', subtype: 'other_or_unclassified', text: /^message refused\.?$/, detail: 'generic_policy' },
];
