// Passkeys and security keys on the second-factor pages. Each form marked data-webauthn ("register" or
// "authenticate") carries the server's options in data-options; the browser's answer goes into its
// WebauthnResponse field and the form is posted. Without WebAuthn (or without JavaScript) the forms stay
// hidden and the other ways to sign in remain.
(function () {
  var lib = window.SimpleWebAuthnBrowser;
  if (!lib || !lib.browserSupportsWebAuthn()) return;
  var forms = document.querySelectorAll('form[data-webauthn]');
  Array.prototype.forEach.call(forms, function (form) {
    form.hidden = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var status = form.querySelector('.webauthn-status');
      var optionsJSON = JSON.parse(form.getAttribute('data-options'));
      var ceremony = form.getAttribute('data-webauthn') === 'register' ? lib.startRegistration({ optionsJSON: optionsJSON }) : lib.startAuthentication({ optionsJSON: optionsJSON });
      ceremony.then(
        function (answer) {
          form.elements.WebauthnResponse.value = JSON.stringify(answer);
          form.submit();
        },
        function () {
          if (status) status.textContent = form.getAttribute('data-failed');
        },
      );
    });
  });
})();
