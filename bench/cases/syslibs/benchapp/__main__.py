import ldap, psycopg2

print("OK")
