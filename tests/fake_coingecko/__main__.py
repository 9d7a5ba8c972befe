"""Run the fake CoinGecko for a local demo.

python -m tests.fake_coingecko --port 8600
CRYPTO_DASH_COINGECKO_BASE_URL=http://127.0.0.1:8600/api/v3 python -m crypto_dash fetch
"""

from __future__ import annotations

import argparse
import threading

from tests.fake_coingecko.server import FakeCoinGecko


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_coingecko")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--calls-per-minute", type=int, default=None)
    parser.add_argument(
        "--fault", action="append", default=[], help="A fault to switch on, e.g. html."
    )
    args = parser.parse_args()
    fake = FakeCoinGecko(calls_per_minute=args.calls_per_minute)
    for name in args.fault:
        fake.set_fault(name)
    fake.start(port=args.port)
    print(f"fake CoinGecko at {fake.base_url} (Ctrl-C stops it)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
