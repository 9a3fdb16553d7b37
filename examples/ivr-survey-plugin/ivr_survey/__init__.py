"""An ivr-engine plugin: the `survey_question` node type (a 1-5 rating from the caller)."""

from .survey_question import SurveyQuestionNode

__all__ = ["SurveyQuestionNode"]
