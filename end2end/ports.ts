// Where the browser tests find Parley: the server-rendered app, and the Trunk bundle.
export const appPort = Number(process.env.PARLEY_E2E_PORT ?? 3210);
export const csrPort = Number(process.env.PARLEY_E2E_CSR_PORT ?? 3211);
export const appURL = `http://127.0.0.1:${appPort}`;
export const csrURL = `http://127.0.0.1:${csrPort}`;
// The same bundle at a name browsers count as another site than 127.0.0.1 (still loopback).
export const csrOtherSiteURL = `http://localhost:${csrPort}`;
// The loopback SMTP receiver the mail test starts (the server sends its mail there).
export const smtpPort = Number(process.env.PARLEY_E2E_SMTP_PORT ?? 3212);
