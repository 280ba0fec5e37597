"""``khabar studio …``: the Label Studio commands (thin over :mod:`khabar.studio`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from khabar.cli.common import FullHelpGroup

from khabar.core.errors import KhabarError
from khabar.cli.common import QuietOpt, RootOpt, fail as _fail, project_at as _project

studio_app = typer.Typer(cls=FullHelpGroup, 
    help="Annotate in Label Studio: serve a local server, push the corpus as tasks, pull annotations back.\n\n"
         "Workflow: `khabar studio serve` (in one terminal) -> `khabar studio push` -> annotate in the browser -> "
         "`khabar studio pull` -> `khabar release`.\n\n"
         "Clients read LABEL_STUDIO_URL (default http://127.0.0.1:8080) and LABEL_STUDIO_API_KEY; "
         "`serve` also reads LABEL_STUDIO_USERNAME (an e-mail) and LABEL_STUDIO_PASSWORD for the admin user.",
    no_args_is_help=True, rich_markup_mode=None)

TitleOpt = typer.Option("Khabar", "--project", help="Title of the Label Studio project (looked up by title).")


def _need(name: str) -> str:
    """The value of environment variable ``name``; a KhabarError with a hint when it is unset."""
    value = os.environ.get(name)
    if not value:
        hint = ("export LABEL_STUDIO_API_KEY=<40 random hex digits> (the legacy token this server is first started with)"
                if name == "LABEL_STUDIO_API_KEY" else "export LABEL_STUDIO_USERNAME=admin@example.org LABEL_STUDIO_PASSWORD=…")
        raise KhabarError(f"{name} is not set", hint=hint)
    return value


@studio_app.command()
def install(root: Optional[Path] = RootOpt) -> None:
    """Install label-studio into the project's .venv-studio (its own virtualenv; done once)."""
    from khabar.studio.server import install as run

    try:
        exe = run(_project(root), echo=typer.echo)
    except KhabarError as err:
        _fail(err)
    typer.echo(f"label-studio ready: {exe}")


@studio_app.command()
def serve(
    port: int = typer.Option(8080, "--port", help="TCP port on 127.0.0.1."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Server data folder (default: <project>/.labelstudio, git-ignored)."),
    allow_local_ml: bool = typer.Option(False, "--allow-local-ml",
                                        help="Let Label Studio use ML backends and webhooks on this machine (needed for "
                                             "`khabar studio backend`); lifts its protection against requests to local addresses."),
    legacy_token: bool = typer.Option(False, "--legacy-token",
                                      help="Also accept legacy API tokens: a new data folder gets the admin's set to "
                                           "LABEL_STUDIO_API_KEY (for clients that cannot use personal access tokens)."),
    root: Optional[Path] = RootOpt,
) -> None:
    """Run a local Label Studio on 127.0.0.1 until Ctrl-C (installs it on first use).

    The admin user comes from LABEL_STUDIO_USERNAME and LABEL_STUDIO_PASSWORD (fixed when the data
    folder is first created). Token settings are Label Studio's own: clients use a personal access
    token (Account & Settings -> Personal Access Token, or `khabar studio token`). Works offline:
    update checks, analytics and error reporting are switched off. The first use installs Label
    Studio into .venv-studio (about 6 minutes; KHABAR_LABEL_STUDIO=/path/to/bin/label-studio uses one
    installed elsewhere); each start then takes about a minute.
    """
    from khabar.studio.server import serve as run

    try:
        run(_project(root), port, _need("LABEL_STUDIO_USERNAME"), _need("LABEL_STUDIO_PASSWORD"),
            _need("LABEL_STUDIO_API_KEY") if legacy_token else None,
            data_dir=data_dir, allow_local_ml=allow_local_ml, echo=typer.echo)
    except KhabarError as err:
        _fail(err)


@studio_app.command()
def token(
    out: Path = typer.Option(..., "--out", help="The file to write the token to (mode 0600; never overwritten)."),
    url: Optional[str] = typer.Option(None, "--url", help="The server (default: $LABEL_STUDIO_URL, else http://127.0.0.1:8080)."),
) -> None:
    """Make a personal access token for the admin (LABEL_STUDIO_USERNAME, LABEL_STUDIO_PASSWORD) and
    write it to --out, readable by you only; then: export LABEL_STUDIO_API_KEY=$(cat FILE).

    Label Studio keeps one personal access token per user and shows it once; to replace one,
    revoke it in Account & Settings first. The token is never printed.
    """
    from khabar.studio.client import DEFAULT_URL, checked_url
    from khabar.studio.tokens import check_token_file, create_personal_access_token, write_token_file

    server = (url if url is not None else os.environ.get("LABEL_STUDIO_URL") or DEFAULT_URL).rstrip("/")
    try:
        shown = checked_url(server, "--url" if url is not None else "LABEL_STUDIO_URL")
        user, password = _need("LABEL_STUDIO_USERNAME"), _need("LABEL_STUDIO_PASSWORD")
        check_token_file(out)  # before the token is made: Label Studio shows it once
        secret = create_personal_access_token(server, user, password)
        write_token_file(out, secret)
    except KhabarError as err:
        _fail(err)
    typer.echo(f"wrote a personal access token for {user} on {shown} to {out} (mode 0600); "
               f"use it with: export LABEL_STUDIO_API_KEY=$(cat {out})")


@studio_app.command()
def config(root: Optional[Path] = RootOpt) -> None:
    """Print the labeling config generated from schema/ (Label Studio XML)."""
    from khabar.studio.config import project_labeling_config

    try:
        typer.echo(project_labeling_config(_project(root)), nl=False)
    except KhabarError as err:
        _fail(err)


@studio_app.command()
def push(
    title: str = TitleOpt,
    update_config: bool = typer.Option(False, "--update-config", help="Replace the project's labeling config when it differs from schema/."),
    annotations: list[str] = typer.Option([], "--annotations", metavar="NAME",
                                           help="Also import annotations/<doc_id>/NAME.json as annotations (e.g. gold). Repeatable."),
    no_predictions: bool = typer.Option(False, "--no-predictions", help="Do not add pre-annotations as predictions."),
    add_revisions: bool = typer.Option(False, "--add-revisions",
                                       help="For a document whose text changed under annotations, add a task for the new text."),
    batch: int = typer.Option(500, "--batch", min=1, max=5000, help="Tasks per import request (Label Studio imports 500–1,000 at a time fastest)."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Create or update the Label Studio project and import each corpus document as a task.

    Idempotent: tasks are identified by doc id and text SHA-256, so a second push creates nothing.
    Pre-annotations (annotations/<doc_id>/preannotator.json) go in as predictions.
    """
    from khabar.studio.client import connect
    from khabar.studio.push import push as run

    try:
        r = run(_project(root), connect(), title=title, update_config=update_config, predictions=not no_predictions,
                annotations=annotations, add_revisions=add_revisions, batch=batch, progress=not quiet)
    except KhabarError as err:
        _fail(err)
    typer.echo(f"project {r.project_id} ({title!r}, {r.url}): {r.created} task(s) created, "
               f"{r.updated} updated, {r.unchanged} unchanged; "
               f"{r.predictions} prediction(s), {r.annotations} annotation(s) added"
               + (f"; {r.revisions} new revision task(s)" if r.revisions else "")
               + ("; labeling config replaced" if r.config_updated else ""))
    for doc in r.duplicates:
        typer.echo(f"warning: {doc} has several tasks for the same text", err=True)
    for doc in r.edited:
        typer.echo(f"edited: {doc}: its text was edited in Label Studio and it has annotations; left as it was", err=True)
    if r.edited:
        typer.echo("hint: restore data.text of those tasks in Label Studio (texts are edited in seeds/, then ingest and push)", err=True)
    if r.changed or r.edited:
        for doc in r.changed:
            typer.echo(f"changed: {doc}: its text changed but its task has annotations; left as it was", err=True)
        if r.changed:
            typer.echo("hint: pass --add-revisions to add a task for the new text (the old one keeps its annotations)", err=True)
        raise typer.Exit(1)


@studio_app.command(name="import")
def import_(
    export: Path = typer.Argument(..., metavar="EXPORT.json", help="A Label Studio export in the JSON (full) format."),
    title: str = TitleOpt,
    as_me: bool = typer.Option(False, "--as-me", help="Import every annotation as yours (when its annotators are not users of this server)."),
    mapping: list[str] = typer.Option([], "--map", metavar="LABEL=TYPE",
                                      help="An export of another project: map its label to a Wojood type (repeatable); the "
                                           "annotations become annotator files, no server needed."),
    annotator: str = typer.Option("ls-import", "--annotator", help="With --map: the annotator id of the files written."),
    skip_unmapped: bool = typer.Option(False, "--skip-unmapped", help="With --map: leave out (and list) labels, relations and "
                                                                      "choices that are not mapped, instead of refusing."),
    skip_unmatched: bool = typer.Option(False, "--skip-unmatched", help="With --map: leave out (and list) tasks whose text is no "
                                                                        "corpus document, instead of refusing."),
    force: bool = typer.Option(False, "--force", help="With --map: replace annotator files that exist with other content."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Re-import a Label Studio JSON export into the project, without duplicate tasks or annotations;
    or, with --map, bring an export of another project in as annotator files.

    Tasks are matched by doc id and text SHA-256; an annotation already on the task is not added
    again. JSON-MIN and CSV exports are refused: they drop relations and region ids. With --map,
    tasks are matched to corpus documents by their text, mapped labels become entities, and what
    cannot be mapped is listed (and refuses the import unless --skip-unmapped).
    """
    if mapping:
        _import_foreign(export, mapping, annotator, skip_unmapped, skip_unmatched, force, root)
        return
    from khabar.studio.transfer import import_export_file as run

    try:
        r = run(_project(root), export, title=title, as_me=as_me, progress=not quiet)
    except KhabarError as err:
        _fail(err)
    typer.echo(f"project {r.project_id} ({title!r}): {r.created} task(s) created, {r.unchanged} already there; "
               f"{r.annotations} annotation(s) added"
               + (f"; {r.predictions_dropped} prediction(s) not carried over (exports list them by id only)" if r.predictions_dropped else ""))


def _import_foreign(export: Path, mapping: list[str], annotator: str, skip_unmapped: bool, skip_unmatched: bool, force: bool,
                    root: Optional[Path]) -> None:
    """`khabar studio import --map`: :func:`khabar.studio.foreign.import_foreign` and its report."""
    from khabar.formats.conll.reader import parse_map
    from khabar.studio.foreign import import_foreign

    try:
        r = import_foreign(_project(root), export, parse_map(mapping), annotator, skip_unmapped=skip_unmapped,
                           skip_unmatched=skip_unmatched, force=force)
    except KhabarError as err:
        _fail(err)
    typer.echo(f"{export.name}: {r.tasks} task(s), {r.annotations} annotation(s): {r.entities} entities in {len(r.files)} "
               f"file(s) written, {len(r.unchanged)} unchanged")
    for key, n in sorted(r.unmapped.items()):
        typer.echo(f"left out (not mapped): {key} ({n}×)", err=True)
    for line in r.unmatched:
        typer.echo(f"left out (no corpus document): {line}", err=True)
    for w in r.warnings[:10]:
        typer.echo(f"warning: {w}", err=True)
    if r.annotator_added:
        typer.echo(f"added annotator {r.annotator_added!r} to annotations/annotators.json (kind human, not reviewed)")


@studio_app.command()
def pull(
    title: str = TitleOpt,
    annotator_map: Optional[Path] = typer.Option(None, "--annotator-map", metavar="FILE",
                                                 help="JSON object from Label Studio e-mail (or user id) to pseudonymous annotator id "
                                                      "(default: .labelstudio/annotator-map.json if present; else ls-<user id>)."),
    drafts: bool = typer.Option(False, "--drafts", help="Also write unsubmitted drafts as <annotator>.draft.json."),
    no_snapshot: bool = typer.Option(False, "--no-snapshot", help="Page through the task list instead of reading one export "
                                     "snapshot as a stream (the default; paging is the fallback where snapshots are unavailable)."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Read every task and annotation and write annotations/<doc_id>/<annotator>.json.

    Every span is checked against the document text; offsets stored as UTF-16 code units are
    converted where exactly one reading matches. Skipped (cancelled) annotations are not taken.
    All or nothing: on any problem nothing is written and every problem is listed.
    """
    from khabar.studio.client import connect
    from khabar.studio.pull import pull as run

    try:
        project = _project(root)
        r = run(project, connect(), title=title, annotator_map=annotator_map or project.annotator_map, drafts=drafts,
                progress=not quiet, snapshot=not no_snapshot)
    except KhabarError as err:
        _fail(err)
    typer.echo(f"project {r.project_id} ({title!r}): {r.tasks} task(s) read; {len(r.written)} annotation file(s) written, "
               f"{r.unchanged} unchanged since the last pull, {r.cancelled} skipped annotation(s) not taken"
               + (f", {r.drafts} draft(s)" if drafts else ""))
    for w in r.warnings:
        typer.echo(f"warning: {w}", err=True)
    for o in r.orphans:
        typer.echo(f"warning: {o}", err=True)


ReviewTitleOpt = typer.Option("Khabar review", "--project", help="Title of the Label Studio review project (looked up by title).")


@studio_app.command(name="push-review")
def push_review(
    doc_ids: list[str] = typer.Argument(None, metavar="[DOC_ID]...", help="Documents to review (default: every one with a conflicts.json)."),
    title: str = ReviewTitleOpt,
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Push adjudication conflicts to Label Studio as review tasks.

    After `khabar adjudicate`, each document with annotations/<doc_id>/conflicts.json becomes one
    task of the review project; its predictions are each annotator's version ("annotator <id>")
    and the agreed items ("agreed"). Open the version closest to right, fix it, submit; then run
    `khabar studio pull-review`. Idempotent: a second push creates nothing.
    """
    from khabar.studio.client import connect
    from khabar.studio.review import push_review as run

    try:
        r = run(_project(root), connect(), title=title, doc_ids=doc_ids or None, progress=not quiet)
    except KhabarError as err:
        _fail(err)
    typer.echo(f"review project {r.project_id} ({title!r}, {r.url}): {r.created} review task(s) created, "
               f"{r.refreshed} refreshed with new conflicts, {r.unchanged} unchanged")
    for t in r.reviewed:
        typer.echo(f"warning: {t}: reviewed on earlier conflicts; a new review task was added (pull-review refuses the old review)", err=True)


@studio_app.command(name="pull-review")
def pull_review(title: str = ReviewTitleOpt, root: Optional[Path] = RootOpt, quiet: bool = QuietOpt) -> None:
    """Write annotations/<doc_id>/gold.json from each submitted review, and remove its conflicts.json.

    gold.json records the annotators whose files were adjudicated (origin.sources) and the review
    task and annotation. All or nothing: on any problem nothing is written and every problem is listed.
    """
    from khabar.studio.client import connect
    from khabar.studio.review import pull_review as run

    try:
        r = run(_project(root), connect(), title=title, progress=not quiet)
    except KhabarError as err:
        _fail(err)
    typer.echo(f"review project {r.project_id} ({title!r}): {r.tasks} task(s) read; {len(r.written)} gold file(s) written, "
               f"{r.unchanged} unchanged, {r.pending} not reviewed yet")
    for w in r.written:
        typer.echo(f"  {w}")


backend_app = typer.Typer(cls=FullHelpGroup, no_args_is_help=False, rich_markup_mode=None)
studio_app.add_typer(backend_app, name="backend")

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _model(path: Path, project, scheme):
    """``(annotate, model_version, retrain)`` of the trained model in folder ``path``
    (:func:`khabar.model.load_model`, refused when trained on another label schema); ``retrain``
    trains anew with the submitted annotations of train documents and swaps the model in
    (:class:`khabar.baseline.retrain.LiveModel`)."""
    from khabar.baseline.retrain import LiveModel
    from khabar.core.schema import Schemas
    from khabar.model import load_model
    from khabar.model.artifact import TOOL, type_fingerprint

    live = LiveModel(load_model(path, type_fingerprint(Schemas(project.schema).vocab("EntityType"))), project, scheme)

    def retrain(records):
        return f"{TOOL} {live.retrain(records)}"
    return live.annotate, f"{TOOL} {live.version}", retrain


@backend_app.callback(invoke_without_command=True)
def backend(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default; the backend has no authentication)."),
    port: int = typer.Option(9090, "--port", min=1, max=65535, help="TCP port."),
    model: Optional[Path] = typer.Option(None, "--model", help="A model folder made by `khabar train`; default: the gazetteer pre-annotator."),
    root: Optional[Path] = RootOpt,
) -> None:
    """Run Khabar's Label Studio ML backend until Ctrl-C: predictions for tasks opened in Label
    Studio, annotation events recorded in .labelstudio/ml-backend/received.jsonl.

    Then connect it to a project: `khabar studio backend connect` (Label Studio must run with
    `khabar studio serve --allow-local-ml`). Without --model the model is the gazetteer
    pre-annotator (model version "khabar-preannotate <version>"); with --model, a model made by
    `khabar train` ("khabar-model khabar-crf-<hash>", as `studio push` names its predictions), which
    retrains on the submitted annotations of train documents when Label Studio asks.
    """
    if ctx.invoked_subcommand is not None:
        return
    import logging

    from khabar.core.schema import Schemas
    from khabar.studio.backend import PREANNOTATOR_VERSION, Backend, preannotator_annotate
    from khabar.studio.backend_app import serve_backend
    from khabar.studio.config import Scheme

    try:
        project = _project(root)
        scheme = Scheme.from_schemas(Schemas(project.schema))
        annotate, version, retrain = _model(model, project, scheme) if model else (preannotator_annotate, PREANNOTATOR_VERSION, None)
        if host not in _LOOPBACK:
            typer.echo(f"warning: listening on {host}: anyone who reaches it can ask for predictions and post events", err=True)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        serve_backend(Backend(annotate, version, scheme, project.studio_backend_dir, retrain=retrain), host, port, echo=typer.echo)
    except KhabarError as err:
        _fail(err)


@backend_app.command(name="connect")
def backend_connect(
    url: str = typer.Option("http://127.0.0.1:9090", "--url", help="The backend's address, as Label Studio reaches it."),
    project: str = typer.Option("Khabar", "--project", help="Title (or id) of the Label Studio project."),
    title: str = typer.Option("Khabar ML backend", "--title", help="The backend's title in Label Studio."),
    train_every: Optional[int] = typer.Option(None, "--train-every", min=0, metavar="N",
                                              help="Ask the backend to retrain every N submitted annotations (0: never; default: unchanged)."),
) -> None:
    """Register a running backend with a project and make opening a task ask it for predictions.

    Reads LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY. Idempotent: a backend already registered at
    --url is updated, not added again.
    """
    from khabar.studio.client import connect as connect_client
    from khabar.studio.connect import connect, find_project_id

    try:
        studio = connect_client()
        r = connect(studio, find_project_id(studio, project), url, title=title, train_every=train_every)
    except KhabarError as err:
        _fail(err)
    typer.echo(f"ML backend {r.backend_id} ({title!r}, {url}, model version {r.model_version}, {r.state}) "
               f"{'connected to' if r.created else 'already on'} project {r.project_id}: opening a task without "
               "predictions asks it for one")
    if not r.webhook:
        typer.echo(f"warning: project {r.project_id} sends no events to {url.rstrip('/')}/webhook, so submitted annotations "
                   "will not reach the backend", err=True)
        typer.echo("hint: restart Label Studio with `khabar studio serve --allow-local-ml`, then connect again", err=True)
