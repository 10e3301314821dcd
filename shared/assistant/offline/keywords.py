"""The offline classifier's keyword rules: pt-BR patterns over the normalised message, each a prior for an intent.

A rule is (intent, weight, pattern): a STRONG rule decides unless the embedding model strongly disagrees; MEDIUM and
WEAK ones lean. Greetings, thanks and acknowledgements that open a message are stripped before the rules look.
"""

from __future__ import annotations

import re

import numpy as np

from shared.assistant.schemas import Intent

INTENTS = list(Intent)
WEAK, MEDIUM, STRONG = 1.0, 2.0, 3.0  # keyword priors, in nats: STRONG is 20 to 1
_LEAD_BONUS = 0.5  # of two strong requests, the one a patient opens with is the one they came for


def _rule(intent: Intent, weight: float, *alternatives: str) -> tuple[int, float, re.Pattern[str]]:
    return INTENTS.index(intent), weight, re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


_DAY = r"(sabados?|domingos?|feriados?|segunda|terca|quarta|quinta|sexta|hoje|amanha|noite|manha|tarde|almoco)"
_WEEKDAY = r"(segunda|terca|quarta|quinta|sexta|sabado)"
_WHEN = rf"(semana|mes|outro|outra|proxim\w*|{_WEEKDAY}|amanha|depois|frente|tarde)"
_APPOINTMENT = r"(horario|data|dia|consulta|sessao|agendamento|retorno|avaliacao|manutencao)"
_PROCEDURE = (
    r"(botox|toxina|preenchimento|harmonizacao|bioestimulador|peeling|laser|limpeza|microagulhamento|skinbooster"
    r"|ultraformer|criolipolise|fios?|radiofrequencia|luz pulsada|depilacao|clareamento|canal|implante|extracao|siso"
    r"|aparelho|alinhador|invisalign|facetas?|lentes?|restauracao|protese|coroa|gengivoplastia|dentadura|lipo)"
)
# Over normalised text. A complaint outranks every request ("desmarcaram minha consulta de novo, que absurdo"),
# a reschedule outranks a cancellation ("vou ter que cancelar, dá pra remarcar?"), and jobs, papers and people
# (other) outrank the words they share with a request ("tem vaga de estágio?").
# fmt: off
_RULES = [
    _rule(Intent.COMPLAINT, STRONG + 1.5,
          r"reclamac\w*|reclamar|reclame aqui|pessim\w*|absurd\w*|descaso|desrespeit\w*|falta de respeito|insatisf\w*",
          r"decepcion\w*|gross(o|a|eira|eiro|eria)|mal (atendid|educad|feit|colocad|explicad|tratad)\w*|ridicul\w*",
          r"em dobro|estorno|cobranca (indevida|errada|duplicada)|plantad[oa]|me deixaram esperando|bagunca",
          r"(?<!dor )(horrivel|terrivel)|engan(os|ad)[oa]|vergonha|procon|dinheiro de volta|nao recomendo",
          r"nunca mais (volto|venho|piso)|sujo|suja|nojo|palhacada|inaceitavel|descontent\w*|indignad\w*",
          r"ninguem (me )?(responde|respondeu|atende|atendeu|retorna|retornou|ligou|avisou|deu satisfacao)",
          r"cobra(ram|do|ndo)\b[\w ]{0,20}\b(errad\w*|a mais|em dobro|duas vezes)|em cima da hora",
          r"falta de (organizacao|consideracao|educacao|profissionalismo|compromisso|atencao)",
          r"(segunda|terceira|quarta) vez|nao (fez|faz) efeito|nao (entregaram|cumpr\w*)|sempre atras\w*",
          r"desorganiz\w*|fiquei [\w ]{0,12}horas? esperando|demora(ndo)? (absurda|demais|muito)",
          r"(zero|nenhum|sem nenhum) resultado|esperava mais|(quase )?nao (fez|vi|teve) (nenhuma )?diferenca",
          r"tentando (falar|contato|contatar)",
          r"(ha|faz) (uma|\d+|dois|duas|tres) (semanas?|dias|horas) (tentando|esperando)"),
    # Disappointment with a result: a complaint unless the message asks for something else.
    _rule(Intent.COMPLAINT, MEDIUM + 0.5,
          r"nao gostei|assimetric\w*|ficou (feio|feia|estranh[oa]|artificial|pior)|piorou|chatead\w*|frustrad\w*",
          r"ate agora (nada|nao|ninguem)|sem avisar"),
    _rule(Intent.RESCHEDULE, STRONG + 1,
          r"remarc\w*|reagend\w*|adiar|antecipar|adiantar|empurrar|(mudar|trocar|alterar) (a |o )?(minha|meu)",
          r"(ao inves|em vez|no lugar) d\w*", rf"(mudar|trocar|passar) para (as |a |o )?(\d|{_WHEN})",
          rf"(mudar|trocar|alterar|jogar|mudanca|troca|transferir)\b[\w ]{{0,30}}\b{_APPOINTMENT}",
          rf"(deixar|passar) (a |o )?(minha |meu )?{_APPOINTMENT}\b[\w ]{{0,20}}\bpara",
          rf"passar (a |o |minha |meu )[\w ]{{0,25}}\bpara (a |o )?{_WHEN}"),
    _rule(Intent.RESCHEDULE, MEDIUM + 0.5, r"outr[oa] (dia|data|horario|hora)"),
    _rule(Intent.RESCHEDULE, MEDIUM,
          r"(vou|vou me) atrasar|atraso|troca\w*\b[\w ]{0,20}\bpara|no mesmo horario",
          r"nao (vou )?(conseguir|consigo) chegar",
          rf"pode ser (na |no )?{_WEEKDAY}", rf"(podemos|poderia ser|consigo ir)\b[\w ]{{0,15}}\b({_WHEN}|mais tarde)"),
    _rule(Intent.CANCEL, STRONG,
          r"cancel(ar|a|e|em|o|amento|ei)|desmarc\w*|desist\w*|nao (vou|vai) mais|nao precisa mais (guardar|reservar)",
          r"nao preciso mais (d[oa] )?(horario|consulta|sessao|atendimento|retorno)",
          r"liberar (o |a |meu |minha )?(horario|vaga)|(tira|tirar|tire) (o )?meu (nome|horario|agendamento)"),
    _rule(Intent.CANCEL, MEDIUM + 0.5, rf"nao (vou|vai|irei) (mais )?(na|no|a|ao|para a|para o) {_APPOINTMENT}"),
    _rule(Intent.CANCEL, MEDIUM - 0.5,
          r"nao (vou|vai|poderei|posso|consigo|vou poder|vou conseguir|irei) (mais )?(ir|comparecer)"),
    _rule(Intent.PRICE, STRONG,
          r"quant[oa]s? (custa|custam|sai|saem|fica|ficam|e|esta|cobra|cobram|voces cobram|vai ficar|seria|ficaria)",
          r"(esta|e|sai|fica|saindo|custando) (por )?quanto|quanto (custaria|pago|eu pago|da)|valor(es)?|precos?",
          r"orcamento|custos?|custa(m|ndo)?|parcel\w*|dividir|desconto|promoc\w*|a vista|formas? de pagamento",
          r"tabela|investimento|cobram|fecha(r)? o pacote|condic(ao|oes) (especia\w*|de pagamento)",
          r"(e|eh|sera|seria) (gratuit\w*|de graca|gratis|pag[ao])",
          r"(aceita|aceitam|passa|passam|recebem)\b[\w ]{0,10}\b(pix|cartao|credito|debito)"),
    _rule(Intent.PRICE, MEDIUM,
          r"pix|cartao|credito|debito|pagar|pagamento|caro|barato|cobra|juros|gratuit\w*|gratis|pacotes?"),
    _rule(Intent.LOCATION_HOURS, STRONG,
          r"endereco|localiza(cao|da|do)|onde (que )?(fica|ficam|e|voces|esta|estao)|como (eu )?(chego|chegar)",
          r"estaciona\w*|vagas? (de|para) (carro|moto|estacionar)|metro|onibus|uber|cep|bairro|predio|filia(l|is)",
          r"unidades?|shopping|manobrista|valet|elevador|ponto de referencia|google maps|maps|mapa|waze|avenida|av",
          r"(em que|qual|que) andar|qual (a )?rua|horarios? de (funcionamento|atendimento)",
          r"horarios? (de|da) (voces|clinica)|(clinica|consultorio|voces) (e|sao|fica|ficam) (no|na|em|de|perto)\b"
          r"(?! (qual|que) )",
          rf"(abre|abrem|aberto|abertos|aberta|fecha|fecham|fechado|funciona|funcionam|expediente)\b[\w ]{{0,20}}\b"
          rf"({_DAY}|fim de semana|horas?|\d+ ?h)",
          r"(que horas|ate que horas|qual horario)\b[\w ]{0,20}\b(abre|abrem|fecha|fecham|funciona|funcionam|atende)"),
    _rule(Intent.LOCATION_HOURS, MEDIUM,
          r"abre|abrem|fecha|fecham|perto|que horas|centro|estacao|conjunto|sala|bloco|terreo|rua|esquina|igreja",
          r"atras d[oa]|em frente|a pe",
          rf"(atende|atendem|atendimento)\b[\w ]{{0,25}}\b({_DAY}|fim de semana|\d+ ?h)"),
    _rule(Intent.INSURANCE, STRONG + 0.5,
          r"convenios?|planos?(?! de (tratamento|sessoes|pagamento))|unimed|amil|bradesco|sul ?america|odontoprev",
          r"hapvida|intermedica|notre ?dame|gndi|cassi|geap|sus|allianz|porto seguro|golden cross|prevent senior",
          r"care ?plus|uniodonto|interodonto|reembols\w*|credenciad\w*|carteirinha|cobertura|guia",
          r"cartao (de )?(desconto|beneficios?)|(so|somente|apenas) particular|particular ou"),
    _rule(Intent.INSURANCE, MEDIUM, r"particular"),
    _rule(Intent.PROCEDURE_INFO, STRONG,
          r"como (funciona|e feit[oa]|e o procedimento|e a recuperacao|e o tratamento)|o que e|para que serve",
          r"serve para|doi|doer|dolorid\w*|machuca|recuperacao|preparo|cuidados|contraindica\w*|efeitos? colatera\w*",
          r"riscos?|(?<!porto )seguro|jejum|definitiv\w*|retoque|repouso|sensi(bilidade|vel|veis)|descasca\w*",
          r"desgasta\w*|hematomas?|diferenca entre|eficien\w*|eficaz|funciona (em|para|no|na|com)|idade|faz mal",
          r"quanto tempo|quantos dias|quantas horas|quantas (sessoes|aplicacoes|vezes)|e normal|e feit[oa]",
          r"gravida|gestante|amamentando|lactante",
          r"(\d+ anos|crianca|idos[oa]|adolescente|menor)\b[\w ,]{0,8}\b(posso|pode)",
          r"uma sessao so|(posso|pode) fazer\b(?=[^?]*\?)|pos(-| )?(operatorio|procedimento)?|qual (e )?(o |a )?melhor",
          r"precisa (de )?manutencao|precis\w* (ir|estar|vir) acompanhad\w*",
          r"(posso|pode|podem|devo|preciso)\b[\w ]{0,20}\b(tomar|beber|comer|deitar|pegar sol|malhar|treinar|academia"
          r"|exercicio|maquiagem|lavar|dirigir|nadar|praia|piscina)"),
    _rule(Intent.PROCEDURE_INFO, MEDIUM - 0.5,
          r"anestesia|resultados?|dura|quem tem|tratar|tratamento para|(pode|posso) fazer|como e (o|a)",
          r"tira|remove|elimina|clareia|melhora|ajuda com|ajuda a|trata|tratam|resolve|serve|deixa|queima|mancha",
          r"(precisa|preciso|e necessario|tem que) (mesmo )?(tirar|extrair|fazer|usar|colocar|trocar)"),
    # A question about a named procedure, when nothing more specific fires, asks how it works.
    _rule(Intent.PROCEDURE_INFO, WEAK, rf"{_PROCEDURE}(?=[^?]*\?)"),
    _rule(Intent.SCHEDULE, STRONG,
          r"marcar|agendar|agende|agendo|marque|reservar|encaixar|encaixe|encaixa|(proximo|primeiro) horario",
          r"tem (vaga(?! (de|para) (emprego|estagio|trabalho|carro|estacionar))|horario|agenda|encaixe)",
          r"tem disponibilidade",
          r"(consigo|conseguem|consegue|da para|tem como|podem|pode) (me )?(atender|encaixar)",
          r"(consigo|conseguem|tem) (um )?horario|posso (ir|passar) (ai|na clinica|hoje|amanha)",
          r"(quero|queria|gostaria de|preciso de|preciso) (fazer |marcar )?(uma |um |a |o )?(consulta|avaliacao"
          r"|horario|atendimento)",
          r"(esta|estao|tem) (livre|disponivel|vago)|precis\w* (ser )?(atendid\w*|consultar)",
          r"horarios? (disponive(l|is)|livres?|vagos?)"),
    # "posso fazer ...?" asks whether one may (procedure_info), unless it names a day.
    _rule(Intent.SCHEDULE, STRONG + 0.25, rf"(posso|pode) (fazer|ir)\b[\w ]{{0,30}}\b(hoje|amanha|{_WEEKDAY}|dia \d+)"),
    _rule(Intent.SCHEDULE, MEDIUM,
          r"marca|agenda|vaga|disponibilidade|primeira consulta|passar (com|em consulta)",
          r"(quero|queria|gostaria de) (fazer|passar|comecar|iniciar)|(consigo|da para) (fazer|ir|passar)"),
    _rule(Intent.SCHEDULE, MEDIUM - 0.5, rf"(dia \d+|{_WEEKDAY})\b[\w ]{{0,15}}\b(tem|pode|da|livre)"),
    _rule(Intent.SCHEDULE, WEAK, r"consulta|avaliacao|horario"),
    # What the staff handles but no other intent covers: people, papers, jobs, sales, channels.
    _rule(Intent.OTHER, STRONG + 1,
          r"(falar|conversar) com (um |uma |a |o )?(atendente|humano|pessoa|alguem|recepcionista|secretaria|gerente"
          r"|gerencia|coordenacao|coordenador\w*|financeiro|diretoria|responsavel|dono|dona)",
          r"(passa|passar|transfer\w*) (me )?(para|com) (a |o |um |uma )?(atendente|alguem|pessoa|recepcao|secretaria)",
          r"atendente|humano|pessoa de verdade|comprovante|nota fiscal|atestado|declaracao|segunda via|laudo",
          r"biopsia|prontuario|cpf|cnpj|relatorio|pericia|curriculo|emprego|estagio|contratando|vaga de trabalho",
          r"representante|fornecedor|vend(e|em|er)|modelo|cursos?|parceria|permuta|influenc\w*|sou da empresa",
          r"da empresa de|visita tecnica|alugar|aluguel"),
    _rule(Intent.OTHER, STRONG - 0.5,
          r"instagram|insta|facebook|e-?mail|site|telefone|whats(app)?|numero (da|de) (recepcao|clinica|telefone)",
          r"contato d[oa]|exames?|radiografias?|raio-? ?x|tomografia|panoramica|audio|esquec\w*|boletos?|contrato",
          r"recepcao|recepcionista|secretaria|documentos?|foto|me liga|ligar|receita|ficha|anamnese|formulario",
          r"robo|bot|especialista|especialidade|app|aplicativo|login|senha|cadastro"),
    _rule(Intent.OTHER, MEDIUM,
          r"(ainda|continua) (atende|atendendo|trabalha|trabalhando)|e a clinica (do|da)|vou pensar|te aviso",
          r"depois (eu )?(falo|te aviso|retorno)|recibo|antibiotico|remedio|medicamento"),
]
# What a message may open with and still ask nothing: pleasantries (a greeting, when alone) and acknowledgements
# of something we said ("ok", "certo": other, when alone).
_PLEASANTRIES = (
    r"oi|oie|ola|ole|opa|e ai|eai|fala(?=,)|bom dia|boa tarde|boa noite|tchau"
    r"|(muito )?(obrigad[oa]|agradeco|agradecid[oa]|grat[oa]|valeu)( muito| demais)?"
    r"( (o|a) (atendimento|atencao|ajuda|carinho|retorno|paciencia|informacao))?"
    r"|tudo (bem|bom|certo|joia|tranquilo|ok|em paz|beleza)|(com|por) (voce|voces|a senhora|o senhor|ai)"
    r"|como (vai|vao|esta|estao)( voces| voce| a senhora| o senhor)?|ate (logo|mais|amanha|breve|a proxima)"
    r"|abracos?|beijos?|bjs?|(tenha|tenham) (um|uma)|(otim[oa]|bo[ma]) (dia|tarde|noite|semana|fim de semana|feriado)"
    r"|pel[oa] (atencao|ajuda|forca|paciencia|carinho|atendimento|retorno)( de sempre)?|a atencao|desde ja"
    r"|pessoal|gente|querida|a todos|doutora|doutor|dra|dr|viu"
    r"|(voces sao|sao) (otim[oa]s|demais|maravilhos[oa]s|incriveis|show|top|uns amores)"
)
_ACKNOWLEDGEMENTS = r"ok|okay|certo|entendi|entendido|beleza|esta bom|esta bem|combinado|perfeito|show|tranquilo|claro"
# fmt: on
_OPENING = re.compile(rf"(?:({_PLEASANTRIES})|{_ACKNOWLEDGEMENTS}|hum+|ah+|aham|uhum)\b[\s,.!?;:-]*")
_ASKS_SOMETHING = re.compile(rf"\?|\b{_PROCEDURE}\b|\b(quanto|qual|onde|como|quando|consulta|horario|valor)\b")
ASKS_IF_NORMAL = re.compile(r"\b(e|eh|isso e|sera que e) normal\b|\bnormal (ficar|ter|sentir|sangrar|inchar|doer)")
# Short answers to something we asked; stripped as openings they would change the meaning ("nao vou poder ir").
BARE_ANSWER = re.compile(r"^(sim|nao|esta|isso|pode ser|pode)[.!]*$")


def score_keywords(normalised: str) -> np.ndarray:
    """Each intent's keyword score for a normalised message: its strongest rule that matched, 0 if none."""
    scores, openings = np.zeros(len(INTENTS)), np.full(len(INTENTS), len(normalised) + 1)
    for index, weight, pattern in _RULES:
        if weight > scores[index] and (found := pattern.search(normalised)):
            scores[index], openings[index] = weight, found.start()
    contenders = np.flatnonzero(scores >= STRONG)
    if len(contenders) > 1:
        scores[contenders[np.argmin(openings[contenders])]] += _LEAD_BONUS
    return scores


def strip_pleasantries(normalised: str) -> tuple[str, bool]:
    """The message without the greetings, thanks and acknowledgements it opens with, and whether it greeted."""
    remainder, greeted = normalised, False
    while (found := _OPENING.match(remainder)) and found.end() > 0:
        greeted = greeted or found.group(1) is not None
        remainder = remainder[found.end() :]
    return remainder.rstrip(), greeted


def only_a_name(remainder: str) -> bool:
    """Nothing left, or only a name: "oi Maria", "bom dia Dra. Renata, tudo bem?"."""
    words = remainder.split()
    if len(words) > 1 and not strip_pleasantries(" ".join(words[1:]))[0]:
        words = words[:1]
    text = " ".join(words)
    return len(words) <= 2 and not _ASKS_SOMETHING.search(text) and not score_keywords(text).any()
