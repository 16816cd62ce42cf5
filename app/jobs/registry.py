"""Each job the outbox may ask for (``app.core.outbox.JOB_NAMES``) and its handler."""

from __future__ import annotations

from collections.abc import Callable

from app.jobs import exports, mail

JobHandler = Callable[[dict, str], None]

JOBS: dict[str, JobHandler] = {
    "mail.welcome": mail.send_welcome,
    "mail.case_notice": mail.send_case_notice,
    "mail.survey_invitation": mail.send_survey_invitation,
    "mail.billing_notice": mail.send_billing_notice,
    "mail.password_reset": mail.send_password_reset,
    "mail.account_locked": mail.send_account_locked,
    "exports.minutes": exports.build_minutes,
    "exports.build": exports.build_export,
    "network.release": exports.publish_network_release,
    "billing.create_customer": exports.create_stripe_customer,
}
