import ldap
import ldap.dn

# Parsing a DN and creating a connection object exercise the compiled _ldap module and
# libldap/liblber at run time; no server is needed.
dn = ldap.dn.str2dn("cn=pyslim,dc=example,dc=org")
conn = ldap.initialize("ldap://127.0.0.1:1")
print(f"python-ldap {ldap.__version__} OK: {dn[0][0][1]} via {ldap.OPT_API_INFO and 'libldap'}")
