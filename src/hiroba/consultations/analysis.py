"""Former home of the consultation's opinion-analysis integration, kept so that existing
imports (`from hiroba.consultations import analysis`) keep working. The code is in
`hiroba.consultations.opinion_analysis` (adapter, services, queries); new code imports that."""

from hiroba.consultations.opinion_analysis import *  # noqa: F403
from hiroba.consultations.opinion_analysis import __all__  # noqa: F401
