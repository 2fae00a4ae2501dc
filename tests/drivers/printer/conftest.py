import threading

import pytest

from drivers.printer.ticket import TicketPrint


@pytest.fixture
def ticket() -> TicketPrint:
    return TicketPrint(
        hall_name="城东区政务服务中心",
        service_name="不动产登记",
        number="A023",
        ahead=5,
        issued_at="2024-05-06 09:12",
        windows=["3号窗口", "5号窗口"],
        materials=["居民身份证原件", "不动产权证书原件", "购房合同原件"],
        qr_data="https://hall.example/t/20240506-A023",
        notice="请留意叫号，过号请重新取号",
    )


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Every simulator and worker a test starts must be stopped by the end of it."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"
