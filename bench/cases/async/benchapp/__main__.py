import aiohttp

print("OK")
