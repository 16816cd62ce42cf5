"""The extension objects, created unbound so every module can import them."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app.tenants.session import TenantSession


def _key_column(constraint, table) -> str:
    """The column a foreign key is about: ``case_id`` in ``(tenant_id, case_id)``.

    Keys between a district's tables pair ``tenant_id`` with the column; naming them by
    that column keeps one name per key (``fk_cases_teacher_id_users``) as before.
    """
    names = [column.name for column in constraint.columns]
    return next((name for name in names if name != "tenant_id"), names[0])


#: One naming convention, so constraint names in migrations are stable and readable.
NAMING_CONVENTION = {
    "key_column": _key_column,
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(key_column)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Model, session_options={"class_": TenantSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
