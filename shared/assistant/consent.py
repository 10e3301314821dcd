"""Whether a patient is asking us to stop (or start again) sending them automatic WhatsApp messages.

Deterministic on purpose: stopping when asked is a legal duty (LGPD, WhatsApp policy), so it must not depend
on a model's mood. It errs towards the literal request: "não me mande mais boletos" is about boletos, "parar
de sangrar" about bleeding, and "cancelar a consulta" about an appointment; none of them is an opt-out.
"""

from __future__ import annotations

import re

from shared.assistant.offline import normalise

OPT_OUT_CONFIRMATION = (
    "Pronto, você não vai mais receber mensagens automáticas da clínica. "
    "Se mudar de ideia, é só enviar VOLTAR aqui que voltamos a te mandar."
)

# What a patient calls our messages; an opt-out must be about these, not about boletos or results.
_MESSAGES = (
    r"((esse|este|esses|estes) tipos? de )?(mensage(m|ns)|msgs?|propagandas?|promoc(ao|oes)|novidades|ofertas|spam"
    r"|marketing|lembretes?|nada|isso|essas?( coisas)?)"
)
_POLITE = r"((por favor|obrigad[oa]|grat[oa]|valeu|pessoal|gente)[.!,]? ?)*"
_REMOVE = r"(tira|tire|tirem|tirar|remove|remova|removam|remover|exclui|exclua|excluam|excluir|apaga|apague|apagar)"
_SEND = r"(mand|envi)(arem|ando|ar|em|a|e)"

_OPT_OUT_WHOLE = re.compile(
    rf"^{_POLITE}(pare|parem|parar|para|sair|sai|stop|descadastrar|descadastro|remover|remove|unsubscribe|chega|basta)"
    rf"[.!, ]*{_POLITE}$"
)
_OPT_OUT_PHRASES = [
    # "não quero mais receber (mensagens)", "para de me mandar (mensagem)"; not "não quero receber boletos"
    rf"\bnao (quero|desejo|gostaria de) (mais )?receber( mais)?( {_MESSAGES}| de voces| daqui)?( mais)?\s*([.!,]|$)",
    rf"\bnao (quero|desejo|gostaria de) (mais )?receber( mais)? {_MESSAGES}",
    rf"\b(para|pare|parem|parar) de (ficar )?(me )?{_SEND}( mais)?( {_MESSAGES}| para mim)?\s*([.!,]|$|por favor)",
    rf"\b(para|pare|parem|parar) de (ficar )?(me )?{_SEND}( mais)? {_MESSAGES}",
    rf"\b(para|pare|parem|parar|chega|basta) (com|de) (essas |estas |as |tantas )?{_MESSAGES}",
    rf"\bnao (me )?{_SEND}( mais)? {_MESSAGES}",
    rf"\b{_REMOVE}\b.{{0,25}}\b(lista|grupo)\b(?! de espera)",
    rf"\b{_REMOVE} (o )?meu (numero|contato|telefone|whatsapp)",
    r"\bsair (da|dessa|desta|de sua|de vossa) lista\b",
    r"\bdescadastr",
    r"\bcancelar (a |as |minha |o |meu )?(inscricao|assinatura|cadastro|recebimento|mensage(m|ns)|notificac(ao|oes))",
    r"\bnao quero (mais )?ser (contatad|contactad|incomodad|perturbad)",
]
_OPT_OUT = [re.compile(pattern) for pattern in _OPT_OUT_PHRASES]

_OPT_IN = [
    re.compile(rf"^{_POLITE}(voltar|volta|start|reativar|retomar)[.!, ]*{_POLITE}$"),
    re.compile(r"\b(quero|gostaria de|pode(m)?|podem me) (voltar a|volta a) (receber|mandar|me mandar|enviar)"),
    re.compile(rf"\bquero (voltar a )?receber (as )?{_MESSAGES} (de novo|novamente)"),
]


def is_opt_out(text: str) -> bool:
    """True when the message asks us to stop sending automatic messages (a one-word "PARE" counts)."""
    normalised = normalise(text)
    if _OPT_OUT_WHOLE.match(normalised):
        return True
    return any(pattern.search(normalised) for pattern in _OPT_OUT)


def is_opt_in(text: str) -> bool:
    """True when a patient who opted out asks to receive our messages again ("voltar")."""
    normalised = normalise(text)
    return any(pattern.search(normalised) for pattern in _OPT_IN)
