"""Imports every table module so that `Base.metadata` is complete (Alembic and tests need all of it)."""

from shared.alerts import models as alerts_models
from shared.assistant import models as assistant_models
from shared.audit import history as audit_history
from shared.audit import models as audit_models
from shared.clinic import models as clinic_models
from shared.conversations import models as conversations_models
from shared.db import Base
from shared.feedback import models as feedback_models
from shared.jobs import models as jobs_models
from shared.leads import models as leads_models
from shared.metrics import models as metrics_models
from shared.notifications import models as notifications_models
from shared.scheduling import models as scheduling_models
from shared.tasks import models as tasks_models
from shared.templates import models as templates_models
from shared.users import models as users_models
from shared.webhooks import models as webhooks_models
from shared.whatsapp import models as whatsapp_models

metadata = Base.metadata

__all__ = [
    "alerts_models",
    "assistant_models",
    "audit_history",
    "audit_models",
    "clinic_models",
    "conversations_models",
    "feedback_models",
    "jobs_models",
    "leads_models",
    "metadata",
    "metrics_models",
    "notifications_models",
    "scheduling_models",
    "tasks_models",
    "templates_models",
    "users_models",
    "webhooks_models",
    "whatsapp_models",
]
