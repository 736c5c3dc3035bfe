//! What to check when a step fails: shown under BuildKit's error for the step that failed, so
//! the user reads the likely cause and its fix next to the log that shows it.

pub const APT: &str = "apt-get could not install one of these packages. Check each name \
     for the base image's Debian release (`apt-cache policy NAME` in a container of the base \
     image): `system:` packages are for building, `runtime:` packages go into the image.";
pub const DEPENDENCY: &str = "a dependency did not build. If the log above shows a missing \
     header or tool (`fatal error: ldap.h: No such file or directory`, `pg_config executable not \
     found`), add the -dev package that provides it to `system:` and its library to `runtime:`: \
     libldap2-dev + libsasl2-dev (python-ldap), libpq-dev (psycopg2), libffi-dev (cffi), \
     libssl-dev (cryptography), libxml2-dev + libxslt1-dev (lxml), libjpeg-dev + zlib1g-dev \
     (Pillow). If a version was not found, check the pin and `index:`.";
pub const APP: &str = "your project did not build to a wheel. Check that `app:` points at \
     its directory and that `pip wheel --no-deps .` works there; its build requirements come \
     from `index:`.";
pub const UV: &str = "uv could not be installed from the index. Check `index:`, or \
     set `installer: pip`, which needs nothing from the index.";
pub const INSTALL: &str = "a built wheel did not install into the runtime image. The two \
     bases must have the same Python and a compatible C library: keep `base:` pairs matched \
     (python:X and python:X-slim).";
