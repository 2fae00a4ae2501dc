"""The clerk's window terminal (窗口叫号终端): a Kivy bar that calls, recalls, passes,
transfers, holds, pauses and finishes tickets for one window, over the hub protocol."""
