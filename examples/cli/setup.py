from setuptools import setup

setup(
    name="hello-cli",
    version="0.1.0",
    packages=["hello_cli"],
    install_requires=["click==8.1.7"],
    entry_points={"console_scripts": ["hello-cli = hello_cli:main"]},
)
