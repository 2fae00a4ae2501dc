@echo off
rem hallq kiosk on a Windows kiosk PC: put this file (or a shortcut to it) in the
rem kiosk user's Startup folder (Win+R, shell:startup) and enable automatic logon.
rem It restarts the kiosk 5 seconds after it exits, except after a config error
rem (exit status 2), which needs a person. Paths: hallq installed in C:\hallq
rem (python -m venv C:\hallq\.venv, then C:\hallq\.venv\Scripts\pip install C:\hallq).
chcp 65001 > nul
cd /d C:\hallq
:loop
C:\hallq\.venv\Scripts\hallq.exe kiosk --config C:\hallq\config\hall.toml --device kiosk-1f --hub ws://192.168.1.10:8765/
if %errorlevel% equ 2 goto config_error
timeout /t 5 /nobreak > nul
goto loop
:config_error
echo hallq kiosk: the hall config has a problem (see above). Fix it, then log on again.
pause
