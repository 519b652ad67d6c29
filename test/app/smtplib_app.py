"""A small application that sends mail with smtplib and logs its failures the way apps do.

Run by test/app/harness.ts (python3, stdlib only):
    python3 smtplib_app.py PORT SCENARIOS.json OUT_DIR HELO_NAME

Writes into OUT_DIR:
    python-logging.log   logging's text format, tracebacks from logger.exception()
    python-json.log      the same records as JSON, one object per line, like python-json-logger:
                         asctime, levelname, name, message, the extras message_id and to, and the
                         formatted traceback in exc_info
    python-ranges.json   the lines (1-based, inclusive) each scenario wrote to each log
"""
import json
import logging
import os
import smtplib
import sys
from email.message import EmailMessage

# Scenarios sent with sendmail() (the others with send_message()): both appear in real tracebacks.
SENDMAIL = {'mixed-2-of-3', 'all-refused', 'data-554'}


class JsonFormatter(logging.Formatter):
    """The shape python-json-logger gives with '%(asctime)s %(levelname)s %(name)s %(message)s'."""

    EXTRAS = ('message_id', 'to')

    def format(self, record):
        entry = {
            'asctime': self.formatTime(record),
            'levelname': record.levelname,
            'name': record.name,
            'message': record.getMessage(),
        }
        for key in self.EXTRAS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry['exc_info'] = self.formatException(record.exc_info)
        return json.dumps(entry)


def main():
    port = int(sys.argv[1])
    with open(sys.argv[2], encoding='utf-8') as f:
        scenarios = json.load(f)
    out = sys.argv[3]
    helo = sys.argv[4]

    paths = {
        'python-logging': os.path.join(out, 'python-logging.log'),
        'python-json': os.path.join(out, 'python-json.log'),
    }
    text = logging.FileHandler(paths['python-logging'], mode='w', encoding='utf-8')
    text.setFormatter(logging.Formatter('%(asctime)s %(levelname)s %(name)s: %(message)s'))
    js = logging.FileHandler(paths['python-json'], mode='w', encoding='utf-8')
    js.setFormatter(JsonFormatter())
    logger = logging.getLogger('app.mailer')
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(text)
    logger.addHandler(js)

    def lines(path):
        with open(path, encoding='utf-8') as f:
            return sum(1 for _ in f)

    ranges = {k: [] for k in paths}
    for s in scenarios:
        before = {k: lines(p) for k, p in paths.items()}
        to = s['to'][0] if len(s['to']) == 1 else s['to']
        extra = {'message_id': s['messageId'], 'to': to}
        msg = EmailMessage()
        msg['From'] = s['from']
        msg['To'] = ', '.join(s['to'])
        msg['Subject'] = '#6 fixture ' + s['id']
        msg['Message-ID'] = s['messageId']
        msg.set_content('A test message.\n')
        try:
            with smtplib.SMTP('127.0.0.1', port, local_hostname=helo, timeout=10) as smtp:
                if s.get('auth'):
                    smtp.login(s['auth']['user'], s['auth']['pass'])
                if s['id'] in SENDMAIL:
                    refused = smtp.sendmail(s['from'], s['to'], msg.as_bytes())
                else:
                    refused = smtp.send_message(msg)
            if refused:
                logger.warning('refused: %r', refused, extra=extra)
            else:
                logger.info('sent %s', s['messageId'], extra=extra)
        except smtplib.SMTPException:
            logger.exception('send failed', extra=extra)
        for h in (text, js):
            h.flush()
        for k, p in paths.items():
            ranges[k].append({'scenario': s['id'], 'first': before[k] + 1, 'last': lines(p)})

    for h in (text, js):
        h.close()
    with open(os.path.join(out, 'python-ranges.json'), 'w', encoding='utf-8') as f:
        json.dump(ranges, f)


if __name__ == '__main__':
    main()
