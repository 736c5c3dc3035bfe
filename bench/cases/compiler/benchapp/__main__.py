import shutil
import subprocess

# uWSGI is a program, not a module: run it.
subprocess.run([shutil.which("uwsgi"), "--version"], check=True, capture_output=True)
print("OK")
