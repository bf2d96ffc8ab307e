"""Presidio's predefined pattern recognizers over a corpus, one line at a time.

Each recognizer is instantiated directly and called with nlp_artifacts=None, so no spaCy model
is loaded (the NLP-based recognizers, such as person names, are not part of this comparison).
Prints one JSON line per corpus line: {"line": n, "entities": [[type, start, end, score], ...]}
and, last, {"cpu_seconds": ...} for the scanning alone.
"""

import json
import sys
import time

from presidio_analyzer import predefined_recognizers as pr

WANTED = [
    "EmailRecognizer",
    "PhoneRecognizer",
    "CreditCardRecognizer",
    "IbanRecognizer",
    "UsSsnRecognizer",
    "UkNinoRecognizer",
    "IpRecognizer",
]


def recognizers():
    out = []
    for name in WANTED:
        cls = getattr(pr, name, None)
        if cls is not None:
            out.append(cls())
    return out


def main():
    recs = recognizers()
    print(json.dumps({"recognizers": [type(r).__name__ for r in recs]}), flush=True)
    lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
    t0 = time.process_time()
    out = []
    for n, line in enumerate(lines, start=1):
        if not line:
            continue
        found = []
        for r in recs:
            for res in r.analyze(line, entities=r.supported_entities, nlp_artifacts=None) or []:
                found.append([res.entity_type, res.start, res.end, round(res.score, 3)])
        out.append({"line": n, "entities": found})
    cpu = time.process_time() - t0
    for o in out:
        print(json.dumps(o))
    print(json.dumps({"cpu_seconds": cpu}))


if __name__ == "__main__":
    main()
