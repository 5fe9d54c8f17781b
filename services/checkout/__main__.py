from services.checkout.app import spec
from shared.service import run

if __name__ == "__main__":
    run(spec())
