// What the page says. Session states come with their message from the session host (one source of truth);
// here are the page's own words and the explanations of API error codes.

export const RESTART_FROM_YCLIENTS =
  "Откройте YCLIENTS → Интеграции → AI Admin и нажмите «Подключить» ещё раз — мы откроем новую страницу подключения.";

export const INVALID_LINK = {
  missing_token: {
    title: "Страница открыта без ссылки подключения",
    text: RESTART_FROM_YCLIENTS,
  },
  invalid_token: {
    title: "Ссылка подключения недействительна",
    text: RESTART_FROM_YCLIENTS,
  },
  registration_expired: {
    title: "Ссылка подключения устарела",
    text: `Ссылка действует один час. ${RESTART_FROM_YCLIENTS}`,
  },
  salon_not_registered: {
    title: "Салон не найден в AI Admin",
    text: RESTART_FROM_YCLIENTS,
  },
  not_installable: {
    title: "Приложение AI Admin отключено в YCLIENTS",
    text: "Подписка заморожена или приложение удалено. Включите AI Admin в YCLIENTS и начните подключение заново.",
  },
};

const ERRORS = {
  network: "Нет связи с сервером. Проверьте интернет и попробуйте ещё раз.",
  bad_phone: "Введите номер полностью, с кодом страны: например +7 916 123-45-67.",
  whatsapp_not_connected: "WhatsApp ещё не подключён. Дождитесь подключения и попробуйте снова.",
  activation_in_progress: "Активация уже идёт. Подождите несколько секунд и нажмите «Повторить».",
  state_changed: "Состояние салона изменилось во время активации. Нажмите «Повторить».",
  uninstalled: "Приложение AI Admin отключено в YCLIENTS. Включите его и начните подключение заново.",
  reconnecting:
    "Связь с WhatsApp салона прервалась, и мы переподключаемся — подключать заново не нужно. Подождите минуту.",
  temporarily_banned:
    "WhatsApp временно ограничил номер салона. Привязывать заново не нужно: когда ограничение снимется, бот продолжит работу сам.",
  frozen: "Подписка AI Admin в YCLIENTS заморожена. После оплаты откройте AI Admin в YCLIENTS — подключение продолжится.",
  storage_unavailable: "Сервис временно недоступен. Попробуйте ещё раз через минуту.",
  no_channel:
    "Код отправить некуда: WhatsApp салона не подключён. Попросите владельца салона открыть AI Admin из YCLIENTS.",
  code_expired: "Код устарел. Нажмите «Отправить код» ещё раз.",
  code_not_sent: "Сначала нажмите «Отправить код».",
  bad_code: "Код — это 6 цифр из сообщения в WhatsApp.",
  too_many_codes: "Слишком много кодов для этого салона за час. Попробуйте позже.",
  phone_code_mismatch: "Этот код был отправлен на другой номер. Запросите код для нового номера.",
  daily_reply_cap: "На сегодня отправлено максимальное число ответов со страницы. Ответьте с телефона салона.",
  owner_code_required: "Это может сделать только владелец салона.",
  internal: "Что-то пошло не так на нашей стороне. Попробуйте ещё раз через минуту.",
};

function minutes(seconds) {
  const m = Math.max(1, Math.ceil((seconds || 60) / 60));
  return `${m} мин.`;
}

export function explain(err) {
  const details = err.details || {};
  if (err.code === "wrong_code") return `Неверный код. Осталось попыток: ${details.tries_left}.`;
  if (err.code === "code_locked") return `Пять неверных попыток. Попробуйте снова через ${minutes(details.retry_after_s)}`;
  if (err.code === "code_sent_recently") return `Код уже отправлен. Новый можно запросить через ${details.retry_after_s} с.`;
  if (err.code === "activation_failed") {
    const reason = err.details && err.details.reason;
    return `YCLIENTS не подтвердил подключение${reason ? `: «${reason}»` : ""}. Попробуйте ещё раз через минуту.`;
  }
  if (ERRORS[err.code]) return ERRORS[err.code];
  if (err.status >= 500 || err.status === 0) return ERRORS.internal;
  return err.message || ERRORS.internal;
}

export const RELINK_QUESTION =
  "WhatsApp салона уже был подключён к AI Admin, и связь может восстановиться сама. Подключить WhatsApp заново? " +
  "Прежняя привязка будет заменена, как только новая заработает.";

export const PHONE_HINTS = {
  invalid: "Введите номер WhatsApp салона полностью, с кодом страны: например +7 916 123-45-67.",
  russian_8:
    "Номер начинается с 8. WhatsApp ждёт номер с кодом страны — для России это +7. " +
    "Если номер верный, нажмите «Получить код» ещё раз.",
};

export function countdown(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
