// The floor for "a worker in the middle": no authentication, no parsing; every request goes on
// to UPSTREAM (the mock Attio) as it came, its Authorization header included, and the answer
// comes back as it is.
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    return fetch(new Request(`${env.UPSTREAM}${url.pathname}${url.search}`, request));
  },
};
