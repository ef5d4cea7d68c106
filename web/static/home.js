import { startPage } from '/static/layout.js';

const user = await startPage('home');
document.getElementById('welcome-name').textContent = user.username;
document.getElementById('welcome-email').textContent = user.email;
