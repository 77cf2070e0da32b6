"""Ensembles: several members trained on one split, averaged in calibrated probability.

Modules: ``module`` (:class:`Ensemble`, one network whose logits are the log of its members'
mean probability, and the same arithmetic on arrays), ``members`` (loading the members of a
run and checking them: missing, damaged, different classes or image sizes), ``assemble``
(the ensemble's ``model.json``; ``stylecast ensemble RUN...`` from separate runs),
``variants`` (how ``--ensemble N`` members differ) and ``report`` (the report's Ensemble
section). Training lives in :mod:`stylecast.training.ensemble`, member-level evaluation in
:mod:`stylecast.evaluation.members`.
"""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "Ensemble": "stylecast.ensemble.module",
    "MemberLogits": "stylecast.ensemble.module",
    "combine_logits": "stylecast.ensemble.module",
    "member_disagreement": "stylecast.ensemble.module",
    "member_probs": "stylecast.ensemble.module",
    "check_compatible": "stylecast.ensemble.members",
    "ensemble_digest": "stylecast.ensemble.members",
    "load_ensemble": "stylecast.ensemble.members",
    "load_members": "stylecast.ensemble.members",
    "weights_digest": "stylecast.ensemble.members",
    "EnsembleBuild": "stylecast.ensemble.assemble",
    "MemberSpec": "stylecast.ensemble.assemble",
    "build_ensemble": "stylecast.ensemble.assemble",
    "copy_shared_files": "stylecast.ensemble.assemble",
    "write_ensemble": "stylecast.ensemble.assemble",
    "render_ensemble_section": "stylecast.ensemble.report",
    "RECIPE_VARIANTS": "stylecast.ensemble.variants",
    "member_config": "stylecast.ensemble.variants",
    "variant_text": "stylecast.ensemble.variants",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
