import sys

from clinic.embedded_db import ensure_running, stop

if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "start"
    if command == "start":
        print(f"Embedded PostgreSQL running, socket in {ensure_running()}")
    elif command == "stop":
        print("Embedded PostgreSQL stopped." if stop() else "Embedded PostgreSQL was not running.")
    else:
        sys.exit("usage: python -m clinic.embedded_db [start|stop]")
