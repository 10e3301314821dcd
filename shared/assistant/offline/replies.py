"""The offline provider's replies: pt-BR templates filled from the clinic's knowledge base."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.assistant.schemas import Intent

if TYPE_CHECKING:
    from shared.knowledge.schemas import Service
    from shared.knowledge.store import KnowledgeBase

OFFER_BOOKING = "Se quiser, nossa equipe agenda um horário para você. 😊"
HANDING_OFF = "Vou encaminhar sua mensagem para a nossa equipe, que já te responde por aqui. 😊"
NO_KNOWLEDGE = "Vou confirmar essa informação com a nossa equipe e já te respondo por aqui. 😊"
URGENT_PREFIX = (
    "Sinto muito que você esteja passando por isso. 😟 Já avisei a nossa equipe com prioridade. "
    "Se os sintomas forem fortes ou piorarem, procure um pronto-socorro ou ligue 192 (SAMU)."
)
SCHEDULING = {
    Intent.SCHEDULE: "Que ótimo! 😊 Vou passar seu pedido para a nossa equipe de agendamento, que já vai falar com "
    "você para combinar o melhor dia e horário{servico}. Se puder, me diga seu nome e o período que prefere "
    "(manhã ou tarde).",
    Intent.RESCHEDULE: "Claro! Vou pedir para a nossa equipe remarcar sua consulta. Ela já fala com você para "
    "combinar a nova data. Tem algum dia ou período de preferência?",
    Intent.CANCEL: "Tudo bem. Vou avisar a nossa equipe para cancelar sua consulta, e ela confirma com você por "
    "aqui. Se quiser remarcar depois, é só chamar. 😊",
}
COMPLAINT = (
    "Sinto muito por isso. 😔 Sua mensagem é importante para nós: vou encaminhá-la agora para a nossa equipe, "
    "que vai falar com você pessoalmente."
)


def greeting(clinic_name: str) -> str:
    return (
        f"Olá! 😊 Aqui é a assistente virtual da {clinic_name}. Posso te ajudar com valores, endereço e horários, "
        "convênios, dúvidas sobre procedimentos ou encaminhar um agendamento. Como posso ajudar?"
    )


def location(kb: KnowledgeBase) -> str:
    clinic = kb.clinic
    lines = [f"📍 Estamos na {clinic.address}."]
    if clinic.hours:
        lines.append(f"🕒 Horário de atendimento: {clinic.hours}.")
    if clinic.maps_url:
        lines.append(f"Como chegar: {clinic.maps_url}")
    if clinic.phone:
        lines.append(f"📞 Telefone: {clinic.phone}")
    return "\n".join(lines)


def price(kb: KnowledgeBase, service: Service | None) -> str:
    if service is not None and service.price:
        text = f"O valor de {service.name} é {service.price}."
        if service.description:
            text += f" {service.description}"
        return f"{text}\n{OFFER_BOOKING}"
    priced = [s for s in kb.services if s.price][:6]
    if not priced:
        return NO_KNOWLEDGE
    lines = "\n".join(f"• {s.name}: {s.price}" for s in priced)
    return f"Estes são alguns dos nossos valores:\n{lines}\nSobre qual procedimento você gostaria de saber?"


def insurance(kb: KnowledgeBase) -> str:
    if not kb.insurance:
        return "No momento atendemos apenas particular. " + OFFER_BOOKING
    names = ", ".join(kb.insurance)
    return f"Atendemos os convênios: {names}. Para confirmar a cobertura do seu plano, nossa equipe te ajuda. 😊"


def procedure(service: Service) -> str:
    parts = [f"Sobre {service.name}:"]
    if service.description:
        parts.append(service.description)
    if service.preparation:
        parts.append(f"Preparo: {service.preparation}")
    if service.price:
        parts.append(f"Valor: {service.price}.")
    return " ".join(parts) + f"\n{OFFER_BOOKING}"


def scheduling(intent: Intent, service: Service | None) -> str:
    return SCHEDULING[intent].replace("{servico}", f" de {service.name.lower()}" if service else "")
