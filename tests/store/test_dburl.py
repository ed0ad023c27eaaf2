from generec.store.dburl import is_postgres_url, password_of, redact


def test_which_values_name_postgresql():
    assert is_postgres_url("postgresql://h/db") and is_postgres_url("postgres://h/db")
    assert not is_postgres_url("sqlite") and not is_postgres_url("mysql://h/db") and not is_postgres_url("/path/postgresql://")


def test_a_url_is_printed_without_its_password():
    assert redact("postgresql://gen:s3cret@db.example:5432/generec") == "postgresql://gen@db.example:5432/generec"
    assert redact("postgresql://gen@/generec?host=/run/pg&password=s3cret&sslmode=require") == "postgresql://gen@/generec?host=/run/pg&sslmode=require"
    assert redact("postgresql://p%40ss:x@h/db") == "postgresql://p%40ss@h/db"
    assert redact("postgresql://h/db") == "postgresql://h/db"


def test_the_password_is_found_wherever_it_is_written():
    assert password_of("postgresql://gen:s3cret@h/db") == "s3cret" and password_of("postgresql://h/db?password=pw") == "pw"
    assert password_of("postgresql://gen@h/db") is None and password_of("postgresql://[bad/db") is None
    assert password_of("postgresql://u:topsecret@[zz/db") == "topsecret"  # malformed, still found
