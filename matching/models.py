"""Reference frameworks, the embedding store, match runs and human review.

A framework (Skills England/IfATE, O*NET, ESCO) has versions; each import adds a version beside
the earlier ones, so a match run keeps pointing at the statements it was computed on. Standards
are the framework's occupations (an IfATE standard, an O*NET occupation, an ESCO occupation);
statements are what a capability is compared with (duties, tasks, essential skills). Statements
without a standard are reference concepts (ESCO skills and knowledge, IfATE K/S/B text) used by
the capability library and KSB suggestions.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from core.jobs import BackgroundJob
from cycles.models import Cycle
from workshops.models import Capability


class Framework(models.Model):
    class Kind(models.TextChoices):
        IFATE = "ifate", "Skills England (IfATE) apprenticeship standards"
        ONET = "onet", "O*NET occupations"
        ESCO = "esco", "ESCO occupations and skills"

    kind = models.CharField(max_length=10, choices=Kind.choices, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.name

    def latest_version(self) -> FrameworkVersion | None:
        return self.versions.order_by("-imported_at", "-id").first()


class FrameworkVersion(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="versions")
    label = models.CharField(max_length=100, help_text="e.g. 'O*NET 29.3', 'ESCO v1.1.1', 'standards_2020'.")
    source = models.CharField(max_length=500, help_text="The file, folder or URL it was imported from.")
    checksum = models.CharField(max_length=64, help_text="sha256 of the imported source.")
    has_levels = models.BooleanField(default=False, help_text="Standards carry an academic level (2–7).")
    counts = models.JSONField(default=dict, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    embedded_at = models.DateTimeField(null=True, blank=True, help_text="When every statement had a vector.")

    class Meta:
        ordering = ["framework", "-imported_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "checksum"], name="unique_framework_checksum"),
            models.UniqueConstraint(fields=["framework", "label"], name="unique_framework_label"),
        ]

    def __str__(self) -> str:
        return f"{self.framework.get_kind_display()} – {self.label}"


class FrameworkImport(BackgroundJob):
    """A framework version uploaded on the frameworks page and imported by a worker (status and
    progress: BackgroundJob). The uploaded files wait under ``MEDIA_ROOT`` until the import is
    done, so a job whose worker was lost can be started again with the same files."""

    kind = models.CharField(max_length=10, choices=Framework.Kind.choices)
    label = models.CharField(max_length=100, blank=True, help_text="Version label; blank: taken from the files.")
    # [{"name": the uploaded file's name, "path": its storage name}, ...]
    files = models.JSONField(default=list)
    version = models.ForeignKey(
        FrameworkVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="imports"
    )
    outcome = models.CharField(max_length=500, blank=True, help_text="What the import did, in a sentence.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.get_kind_display()}"

    @property
    def file_names(self) -> list[str]:
        return [f["name"] for f in self.files]


class Standard(models.Model):
    version = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="standards")
    ref = models.CharField(max_length=200, help_text="Reference within the version (ST0001, O*NET-SOC code, ESCO URI).")
    title = models.CharField(max_length=400)
    level = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    route = models.CharField(
        max_length=300, blank=True, help_text="IfATE route, or the ISCO group of an ESCO occupation."
    )
    status = models.CharField(max_length=60, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["version", "title", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "ref"], name="unique_standard_ref")]
        indexes = [models.Index(fields=["version", "level"])]

    def __str__(self) -> str:
        return f"{self.title} (level {self.level})" if self.level else self.title


class Statement(models.Model):
    class Kind(models.TextChoices):
        DUTY = "duty", "Duty"
        TASK = "task", "Task"
        ESSENTIAL_SKILL = "essential_skill", "Essential skill"
        KNOWLEDGE = "knowledge", "Knowledge"
        SKILL = "skill", "Skill"
        BEHAVIOUR = "behaviour", "Behaviour"

    version = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="statements")
    standard = models.ForeignKey(Standard, null=True, blank=True, on_delete=models.CASCADE, related_name="statements")
    ref = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField()
    # sha256 of the normalised text: joins to Embedding without sending thousands of parameters.
    text_hash = models.CharField(max_length=64, db_index=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["version", "standard", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "standard", "ref"], name="unique_statement_ref")]
        # (version, text_hash) covers "how many of a version's statements are embedded", which the
        # frameworks and import pages ask while a worker embeds (0.6 s → 0.1 s for ESCO's 63,711).
        indexes = [models.Index(fields=["version", "kind"]), models.Index(fields=["version", "text_hash"])]

    def __str__(self) -> str:
        return self.text[:80]


class WorkActivity(models.Model):
    """O*NET's work-activity hierarchy: generalised → intermediate → detailed activities."""

    class Level(models.TextChoices):
        GENERALISED = "gwa", "Generalised work activity"
        INTERMEDIATE = "iwa", "Intermediate work activity"
        DETAILED = "dwa", "Detailed work activity"

    version = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="work_activities")
    ref = models.CharField(max_length=40)
    level = models.CharField(max_length=3, choices=Level.choices)
    title = models.CharField(max_length=400)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    statements = models.ManyToManyField(Statement, blank=True, related_name="work_activities")

    class Meta:
        ordering = ["version", "ref"]
        constraints = [models.UniqueConstraint(fields=["version", "ref"], name="unique_work_activity_ref")]
        verbose_name_plural = "work activities"

    def __str__(self) -> str:
        return self.title


class Embedding(models.Model):
    """A normalised float32 sentence vector, keyed by model and the hash of the normalised text."""

    model = models.CharField(max_length=100)
    text_hash = models.CharField(max_length=64)
    vector = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "text_hash"], name="unique_embedding")]


class StoredMatrix(models.Model):
    """The vectors of an ordered list of texts (a corpus, a framework version's statements) as one
    array, so a process reads 30,000 vectors in one query instead of gathering them from
    ``Embedding`` rows. Derived and disposable: it is keyed by the digest of the ordered text
    hashes, so it can only ever hold what ``Embedding`` holds for exactly those texts; one per
    ``key`` is kept."""

    model = models.CharField(max_length=100)
    key = models.CharField(max_length=100, help_text="What it is for: a corpus key or a version's match statements.")
    digest = models.CharField(max_length=64, help_text="sha256 of the ordered text hashes.")
    rows = models.PositiveIntegerField()
    vectors = models.BinaryField(help_text="rows × 384 float32, row-major.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "digest"], name="unique_stored_matrix")]


class MatchRun(BackgroundJob):
    """A run of a cycle's capabilities against a framework version (status and progress: BackgroundJob)."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="match_runs")
    framework_version = models.ForeignKey(FrameworkVersion, on_delete=models.PROTECT, related_name="match_runs")
    model_name = models.CharField(max_length=100)
    threshold = models.FloatField(validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    level_window = models.PositiveSmallIntegerField(
        default=1, validators=[MaxValueValidator(5)], help_text="Academic levels either side of a FOP's role levels."
    )
    top_k = models.PositiveSmallIntegerField(default=10, validators=[MinValueValidator(1), MaxValueValidator(50)])
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds per step.")
    counts = models.JSONField(default=dict, blank=True)
    # Per capability id, the academic levels its standards were restricted to (null: every level).
    windows = models.JSONField(default=dict, blank=True)
    # The FOPs as they stood when the run computed: {fop id: {"capabilities": [ids], "window": [lo, hi] | null}}.
    fop_snapshot = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["cycle", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"Match run {self.pk} of {self.cycle} against {self.framework_version}"


class MatchScores(models.Model):
    """Every capability × statement score of a run (float16), so fit and surplus can be recomputed
    at any threshold without re-embedding. Kept apart from MatchRun so listing runs stays light."""

    run = models.OneToOneField(MatchRun, on_delete=models.CASCADE, related_name="scores")
    capability_ids = models.BinaryField(help_text="int64 ids, one per row.")
    column_hashes = models.BinaryField(
        help_text="The unique statement texts (sha256 digests, 32 bytes each), one per column."
    )
    matrix = models.BinaryField(help_text="float16 rows × columns, C order.")
    rows = models.PositiveIntegerField()
    columns = models.PositiveIntegerField()


class MatchResult(models.Model):
    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="results")
    capability = models.ForeignKey(Capability, on_delete=models.CASCADE, related_name="match_results")
    rank = models.PositiveSmallIntegerField()
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="match_results")
    score = models.FloatField()

    class Meta:
        ordering = ["run", "capability", "rank"]
        constraints = [models.UniqueConstraint(fields=["run", "capability", "rank"], name="unique_match_rank")]


class MatchReview(models.Model):
    """A person's decision on a capability × statement match; overrides the threshold either way."""

    class Decision(models.TextChoices):
        CONFIRM = "confirm", "Confirmed match"
        REJECT = "reject", "Rejected match"

    capability = models.ForeignKey(Capability, on_delete=models.CASCADE, related_name="match_reviews")
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="reviews")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["capability", "statement"], name="unique_match_review")]


class MatchCalibration(models.Model):
    """Per framework, labelled capability × statement pairs scored by the adopted ranking, so a
    score reads as an estimated precision (``matching/calibration.py``). Recomputed by
    ``python manage.py calibrate_matching`` from the hand-labelled set and educators' reviews."""

    framework = models.OneToOneField(Framework, on_delete=models.CASCADE, related_name="calibration")
    ranking = models.CharField(max_length=200, help_text="The ranking the scores were computed with.")
    # [[score, 1 if the pair is right else 0], ...] sorted by score
    pairs = models.JSONField(default=list)
    sources = models.JSONField(default=dict, help_text="How many pairs came from each source.")
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Calibration of {self.framework} ({len(self.pairs)} pairs)"
