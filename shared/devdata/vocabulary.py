"""Portuguese words the generated data is made of: names, area codes, and what patients, the bot and the front
desk say about procedures, prices, schedules, pain and insurance.

Message templates are grouped by topic, so that a conversation keeps to one or two subjects and a search for
"implante" or "Unimed" finds some conversations, not all of them.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda", "Patrícia", "Aline",
    "Camila", "Beatriz", "Larissa", "Gabriela", "Letícia", "Luana", "Vitória", "Júlia", "Mariana", "Sandra",
    "José", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz", "Marcos", "Gabriel",
    "Rafael", "Daniel", "Marcelo", "Bruno", "Eduardo", "Felipe", "Rodrigo", "Thiago", "Matheus", "Gustavo",
    "Raimunda", "Cláudia", "Tatiane", "Vanessa", "Renata", "Débora", "Sueli", "Rosângela", "Heloísa", "Caio",
)  # fmt: skip
SURNAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
    "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa",
    "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques", "Machado", "Mendes", "Freitas",
    "Cardoso", "Ramos", "Gonçalves", "Santana", "Teixeira", "Araújo", "Cavalcanti", "Monteiro", "Moura", "Pinto",
)  # fmt: skip
# São Paulo, Rio and Belo Horizonte first and more often: a clinic's patients are mostly local.
AREA_CODES = ("11", "11", "11", "11", "21", "21", "31", "19", "13", "41", "51", "61", "71", "81", "85", "27", "48")
CLINIC_CHAT_ID = "5511900000000@c.us"

PROCEDURES = (
    "limpeza", "clareamento", "implante", "tratamento de canal", "aparelho ortodôntico", "extração do siso",
    "restauração", "prótese", "lente de contato dental", "botox", "preenchimento labial", "harmonização facial",
    "peeling", "limpeza de pele", "avaliação", "consulta", "raio-x panorâmico", "placa de bruxismo",
)  # fmt: skip
PLANS = ("Unimed", "Amil", "Bradesco Saúde", "SulAmérica", "Hapvida", "OdontoPrev", "Porto Seguro", "NotreDame")
DAYS = ("segunda", "terça", "quarta", "quinta", "sexta", "sábado", "amanhã", "semana que vem", "dia 15", "dia 22")
HOURS = ("8h", "9h", "9h30", "10h", "11h", "14h", "15h", "16h30", "17h", "18h")
PRICES = ("150", "180", "200", "250", "300", "350", "450", "600", "800", "1.200", "1.800", "2.500", "3.900")
SYMPTOMS = (
    "dor de dente", "dor forte no dente", "sensibilidade no dente", "gengiva sangrando", "inchaço no rosto",
    "dor ao mastigar", "dente quebrado", "dor de cabeça", "dor na mandíbula", "febre depois da extração",
)  # fmt: skip
GREETINGS = ("", "", "Oi! ", "Olá! ", "Bom dia! ", "Boa tarde! ", "Boa noite! ", "Oi, tudo bem? ", "Olá, boa tarde. ")

PATIENT = {
    "procedure": (
        "Queria saber como funciona {proc}",
        "vocês fazem {proc}?",
        "Tenho interesse em {proc}, quanto tempo demora?",
        "{proc} dói muito? tenho medo",
        "Minha dentista indicou {proc}, vocês fazem aí?",
        "Preciso de {proc} urgente, tem vaga?",
        "Quantas sessões precisa para {proc}?",
    ),
    "price": (
        "Quanto custa {proc}?",
        "qual o valor pra fazer {proc}",
        "Dá pra parcelar {proc} no cartão?",
        "Vocês aceitam pix? Tem desconto à vista?",
        "Queria um orçamento para {proc}",
        "O preço da avaliação é quanto?",
        "Achei caro, tem alguma promoção de {proc}?",
    ),
    "schedule": (
        "Quero marcar uma consulta para {day}",
        "Tem horário {day} às {hour}?",
        "Preciso remarcar minha consulta de {day}",
        "Posso ir {day} de manhã?",
        "Qual o horário de funcionamento no sábado?",
        "Vou precisar cancelar o horário de {day}, desculpa",
        "Consigo encaixe {day} depois das {hour}?",
        "Estou esperando resposta desde cedo, ninguém me retorna",
    ),
    "pain": (
        "Estou com {symptom} desde ontem",
        "to com {symptom}, o que eu faço?",
        "Fiz {proc} e agora estou com {symptom}",
        "Acordei com {symptom}, vocês atendem emergência?",
        "A dor não passa nem com remédio, é {symptom}",
        "Meu filho está com {symptom}, dá pra atender hoje?",
    ),
    "insurance": (
        "Vocês aceitam {plan}?",
        "Meu convênio é {plan}, cobre {proc}?",
        "Tenho {plan}, preciso de guia?",
        "Vocês dão recibo para reembolso do {plan}?",
        "Mudei de convênio para {plan}, ainda posso ser atendida?",
        "Minha carteirinha do {plan} venceu, tem problema?",
    ),
}
BOT = {
    "procedure": (
        "{proc} leva em média 40 minutos e é feita pela nossa equipe especializada.",
        "Fazemos {proc}, sim! Primeiro é feita uma avaliação para indicar o melhor tratamento.",
        "Para {proc} usamos anestesia local, então o desconforto é mínimo.",
        "O número de sessões de {proc} depende da avaliação, normalmente de 1 a 3.",
    ),
    "price": (
        "O valor de {proc} é R$ {price},00 e pode ser parcelado em até 10x no cartão.",
        "A avaliação custa R$ 150,00 e o valor é abatido se você fizer o tratamento.",
        "Aceitamos pix, débito e crédito. À vista no pix tem 5% de desconto.",
        "O orçamento de {proc} é feito na avaliação, a partir de R$ {price},00.",
    ),
    "schedule": (
        "Temos horário {day} às {hour}. Posso reservar para você?",
        "Atendemos de segunda a sexta das 8h às 19h e aos sábados das 8h às 12h.",
        "Sua consulta ficou marcada para {day} às {hour}. Chegue 10 minutos antes.",
        "Remarcado! Seu novo horário é {day} às {hour}.",
    ),
    "pain": (
        "Sinto muito pela dor! Vou avisar a equipe para encaixar você o quanto antes.",
        "Em caso de {symptom}, evite alimentos muito quentes ou gelados até a consulta.",
        "Vou transferir você para a recepção para um encaixe de urgência.",
    ),
    "insurance": (
        "Aceitamos {plan} para consultas e {proc}. Traga sua carteirinha no dia.",
        "Não atendemos {plan} diretamente, mas fornecemos recibo para reembolso.",
        "Com {plan} não é preciso guia para a avaliação, só a carteirinha e um documento.",
    ),
}
SECRETARY = (
    "Oi, {name}! Aqui é a {secretary} da recepção. Posso te ajudar?",
    "{name}, consegui um encaixe {day} às {hour}, pode ser?",
    "Confirmado para {day} às {hour}! Qualquer coisa é só chamar.",
    "Verifiquei com o {plan} e {proc} tem cobertura, sim.",
    "O doutor pediu para você tomar o analgésico e vir {day} às {hour}.",
    "Fiz o orçamento de {proc}: R$ {price},00 em até 10x.",
    "Vou enviar o preparo do procedimento por aqui, tudo bem?",
)  # fmt: skip
TOPICS = tuple(PATIENT)
URGENCY_REASONS = (
    "Paciente relata dor intensa",
    "Sangramento após procedimento",
    "Inchaço no rosto e febre",
    "Dente quebrado após queda",
)
MEDIA = (  # kind, mimetype, file name, caption
    ("IMAGE", "image/jpeg", None, "Olha a foto do dente"),
    ("IMAGE", "image/jpeg", None, None),
    ("VOICE", "audio/ogg; codecs=opus", None, None),
    ("DOCUMENT", "application/pdf", "pedido-exame.pdf", "Segue o pedido do exame"),
    ("DOCUMENT", "application/pdf", "carteirinha.pdf", None),
)

# The generated clinic's competitors (fictional), as its settings list them; a patient names one now and then.
COMPETITORS = ("Clínica Sorriso Perfeito", "OdontoVida", "DermaBella", "Instituto Bem Estar")
RETIRED_COMPETITORS = ("Dental Prime",)  # named in old messages, since taken off the settings' list
COMPETITOR_PHRASES = (
    " Na {competitor} me passaram R$ {price},00.",
    " Vi que a {competitor} faz mais barato.",
    " Já fui na {competitor} e não gostei do atendimento.",
    " A {competitor} aceita o meu convênio, e vocês?",
    " Uma amiga faz na {competitor}, é bom aí também?",
)
# The intent a patient's message shows: its topic's, unless a word of the template says otherwise (first match).
TOPIC_INTENTS = {"procedure": "procedure_info", "price": "price", "schedule": "schedule", "pain": "other",
                 "insurance": "insurance"}  # fmt: skip
INTENT_WORDS = (("esperando", "complaint"), ("remarcar", "reschedule"), ("cancelar", "cancel"),
                ("funcionamento", "location_hours"), ("atend", "schedule"), ("encaix", "schedule"))  # fmt: skip
# Per topic, the weights of positive, neutral and negative patients' moods.
MOODS = {"procedure": (40, 52, 8), "price": (20, 60, 20), "schedule": (45, 48, 7), "pain": (5, 40, 55),
         "insurance": (25, 62, 13)}  # fmt: skip
FEEDBACK_COMMENTS = {
    "promoter": ("Atendimento excelente, super rápido!", "Adorei, a recepção foi muito atenciosa.",
                 "Marquei pelo WhatsApp em minutos, recomendo.", "Equipe nota 10."),
    "passive": ("Foi bom, mas demorou um pouco para responder.", "Tudo certo, só achei o valor alto.",
                "Bom atendimento."),
    "detractor": ("Demoraram muito para me responder.", "Não consegui o horário que queria.",
                  "Achei caro e ninguém explicou direito.", "Fiquei esperando e ninguém retornou."),
}  # fmt: skip
