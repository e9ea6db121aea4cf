"""The questionnaires app's models, one module per topic, all importable from here.

- :mod:`.questionnaires`: scales and versioned questionnaires (dimensions,
  questions, options);
- :mod:`.rounds`: rounds, their questionnaires per kind of unit, collection points
  and commitments;
- :mod:`.submissions`: ballots, responses, answers, nonces and the anonymity pool
  (its docstring says what these tables must never hold).
"""

from .questionnaires import (
    Dimension,
    Option,
    Question,
    Questionnaire,
    QuestionnaireQuerySet,
    Scale,
    ScaleLevel,
)
from .rounds import (
    Campaign,
    CampaignQuerySet,
    CampaignQuestionnaire,
    CollectionPoint,
    CollectionPointQuerySet,
    Commitment,
)
from .submissions import (
    Answer,
    BallotCode,
    PendingSubmission,
    Response,
    SubmissionNonce,
)

__all__ = [
    "Answer",
    "BallotCode",
    "Campaign",
    "CampaignQuerySet",
    "CampaignQuestionnaire",
    "CollectionPoint",
    "CollectionPointQuerySet",
    "Commitment",
    "Dimension",
    "Option",
    "PendingSubmission",
    "Question",
    "Questionnaire",
    "QuestionnaireQuerySet",
    "Response",
    "Scale",
    "ScaleLevel",
    "SubmissionNonce",
]
