"""The Label Studio round trip, through ``label-studio-sdk`` only.

One module per job:

* ``server`` — install and run a local Label Studio (``khabar studio install|serve``);
* ``client`` — connect from the environment, clear errors, listings that read every page;
* ``config`` — the labeling config generated from ``schema/`` (:class:`~khabar.studio.config.Scheme`);
* ``offsets`` — code-point and UTF-16 offsets, each span verified against the text;
* ``to_results`` — annotation -> Label Studio results (push direction);
* ``parse`` and ``to_annotation`` — Label Studio results -> regions -> annotation items (pull direction);
* ``tasks`` — what push, pull, import and review share (project, task data, timestamps);
* ``annotators`` — Label Studio users -> pseudonymous annotator ids;
* ``push``, ``pull``, ``transfer`` — corpus -> tasks, annotations -> files, a JSON export -> a project;
* ``review`` — adjudication conflicts as review tasks, reviews back as ``gold.json``.
* ``backend``, ``backend_app``, ``connect`` — an ML backend Label Studio asks for predictions and
  sends annotation events (``khabar studio backend``), its HTTP server, its registration with a project.

Offsets are Unicode code points, half-open ``[start, end)``, everywhere outside Label Studio.
"""
