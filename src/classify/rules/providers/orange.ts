/** Orange, Wanadoo, La Poste, Free: `OFR...`, `LPN...`, `OUK...` codes with a numeric suffix. */
import type { Rule } from '../types.js';

export const orange: readonly Rule[] = [
  // 550 5.7.1 Service refused, please contact the postmaster: OFR004_102 [203.0.113.7] (_102: IP on a block list)
  { id: 'orange.102-block-list', subtype: 'blocklisted', text: /\b(?:ofr|lpn|ouk)\w*_102\b/, detail: 'listed_entity=ip' },
  // 550 5.1.1 ... Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416
  { id: 'orange.416-invalid-recipient', subtype: 'recipient_unknown', text: /destinataire invalide|invalid recipient|_416\b/ },
  // 552 5.2.2 ... Boite du destinataire pleine. Recipient mailbox full. OFR_417
  { id: 'orange.417-mailbox-full', subtype: 'mailbox_full', text: /boite du destinataire pleine|mailbox full|_417\b/ },
  // 550 5.7.1 ... Emetteur invalide. Invalid Sender. OFR_415
  { id: 'orange.415-invalid-sender', subtype: 'sender_address_invalid', text: /emetteur invalide|invalid sender|_415\b/ },
  // 421/554 ... Trop de connexions / too many connections, slow down. OFR_106 / LPN007_510
  { id: 'orange.rate', subtype: 'rate_limited', text: /trop de|too many|_(?:106|510)\b/ },
  // 554 5.7.1 ... Message refuse / rejected for spam (OFR_999)
  { id: 'orange.spam', subtype: 'spam_content', text: /\bspam\b|pourriel/ },
];
