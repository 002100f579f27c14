"""python manage.py match_statements FILE --framework ifate|onet|esco --top K"""

import json
import sys

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from matching import embeddings, ranking, scoring, selectors
from matching.corpora import latest_version

CHUNK = 256


class Command(BaseCommand):
    help = (
        "Read one statement per line from FILE ('-' for stdin) and print, per statement, one JSON line "
        '{"statement", "matches": [{"standard_ref", "standard_title", "level", "statement_ref", "text", "score"}]} '
        "with the framework's best matching statements (latest imported version, all levels), best first, "
        "score in [0, 1]."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--framework", choices=["ifate", "onet", "esco"], default="ifate")
        parser.add_argument("--top", type=int, default=5)

    def handle(self, *args, file: str, framework: str, top: int, **options):
        if top < 1:
            raise CommandError("--top must be at least 1.")
        version = latest_version(framework)
        if version is None:
            raise CommandError(
                f"No {framework} framework is imported: run `python manage.py import_framework {framework} ...`."
            )
        try:
            stream = sys.stdin if file == "-" else open(file, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}.") from exc
        with stream:
            lines = [line.strip() for line in stream if line.strip()]
        vm = scoring.version_matrix(version)
        cands = vm.ranking(progress=lambda done, total: self.stderr.write(f"Embedding {version}: {done:,}/{total:,}"))
        statements = selectors.statements_by_id(version, vm.statement_ids)
        for start in range(0, len(lines), CHUNK):
            chunk = lines[start : start + CHUNK]
            # The adopted ranking (matching/ranking.py), the same scores a match run stores.
            per_statement = ranking.score_all(embeddings.encode(chunk), cands)[:, vm.columns]
            indices, scores = scoring.top_k_rows(per_statement.astype(np.float32), top)
            for line, row_i, row_s in zip(chunk, indices, scores, strict=True):
                matches = []
                for i, score in zip(row_i, row_s, strict=True):
                    statement = statements[int(vm.statement_ids[i])]
                    matches.append(
                        {
                            "standard_ref": statement.standard.ref,
                            "standard_title": statement.standard.title,
                            "level": statement.standard.level,
                            "statement_ref": statement.ref,
                            "text": statement.text,
                            "score": round(float(score), 4),
                        }
                    )
                self.stdout.write(json.dumps({"statement": line, "matches": matches}, ensure_ascii=False))
