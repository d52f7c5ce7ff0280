"""PostgreSQL persistence. Only this package imports SQLAlchemy."""
