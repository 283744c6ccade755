/**
 * Vocabulary of the offline FAQ matcher. Every entry is written normalized (lowercase, no accents).
 * An entry is an exact word ("mesa"), a prefix ending in "*" ("reserv*"), or a phrase of several
 * words ("a que hora"). Concepts are what lets "where are you located?" meet "¿Dónde estáis?".
 */

export type Lang = 'es' | 'en';

export interface ConceptDef {
  id: string;
  /** Relative importance of the concept in a question (default 1). */
  weight?: number;
  es?: readonly string[];
  en?: readonly string[];
  /** Words used in both languages (brands, loanwords): no language evidence. */
  both?: readonly string[];
}

export const STOPWORDS: Record<Lang, ReadonlySet<string>> = {
  es: new Set(
    `a al algo alguna alguno algun ante antes aqui alli ahi asi aun bien cada como con contra cual cuales cuando
    cuanto cuanta cuantos cuantas     de del desde donde durante e el ella ellos en entre era es esa ese eso esta estas este esto estos estoy
    estais estan estamos fue ha han has hay he la las le les lo los mas me mi mis muy mucho mucha muchos muchas
    muchisimo nada ni no nos nosotros nuestro nuestra o os otra otro para pero poco por porque puede pueden
    puedo podeis podemos podria podriais que q k quien se sea ser si sin sobre solo su sus tambien te tengo
    tiene tienen teneis tenes tener tenemos ti tu tus un una uno unos unas usted ustedes vosotros vuestro
    vuestra vuestros y ya yo haceis hacen hace hacer hago hay quiero queria quisiera necesito necesitaria
    gustaria saber favor porfa porfavor pf xfa xfavor ayuda ayudar ayudarme ayudais vale ok okey son sois
    hola buenas buenos gracias pregunta preguntar duda dudas info informacion alguien ver cosa cosas tal
    oye mira dime decir dijeron sabeis sabes seria estaria vais va voy hacerlo lleva llevan llevais
    incluye despues`.split(/\s+/),
  ),
  en: new Set(
    `a about after all also am an and any anything are as at be been before but by can could do does did
    doing for from get got had has have he her here hi how i if im in into is it its just like me my need
    no not of on or our please pls plz r s she should so some something t that the their them then there
    these they this to u up us want was we were what whats when where which who why will with would ya yes
    you your ur d ll m re ve help know tell thanks thank hello hey question wanna gonna let lets ok okay
    one much many does dont don isn aren`.split(/\s+/),
  ),
};

/**
 * Function words that tell the languages apart (a subset of the stopwords, minus the words both share
 * such as "a", "me", "no"), plus informal spellings.
 */
export const LANGUAGE_MARKERS: Record<Lang, ReadonlySet<string>> = {
  es: new Set(
    `al algo alguna alguno algun aqui alli asi como con cual cuales cuando cuanto cuanta cuantos de del desde
    donde el ella ellos en entre era es esa ese eso esta estas este esto estos estoy estais estan fue hay la
    las le les lo los mas mi mis muy mucho nada nos nosotros nuestro nuestra os otra otro para pero poco por
    porque puede pueden puedo podeis que q k quien se ser si sobre solo su sus tambien te tengo tiene tienen
    teneis tu tus un una uno unos unas usted vosotros vuestro vuestra y ya yo haceis hacen hace quiero
    quisiera necesito gustaria favor porfa hola buenas buenos gracias muchas dias tardes noches vale adios
    hasta luego tal`.split(/\s+/),
  ),
  en: new Set(
    `about after all also am and any are at be been before but by can could do does did for from get got
    had has have he her here hi how i if im into is it its just like my need not of on or our please pls
    plz r she should so some that the their them then there these they this to u up us want was we were what
    whats when where which who why will with would yes you your ur help know tell thanks thank hello hey
    good morning afternoon evening there don dont isn aren lot`.split(/\s+/),
  ),
};

// biome-ignore format: dense word lists read better one concept per line
const DAYS_ES = ['lunes', 'martes', 'miercoles', 'jueves', 'viernes', 'sabado*', 'domingo*', 'festivo*', 'finde'];
// biome-ignore format: dense word lists read better one concept per line
const DAYS_EN = ['monday*', 'tuesday*', 'wednesday*', 'thursday*', 'friday*', 'saturday*', 'sunday*', 'weekend*', 'holiday*'];

// biome-ignore format: dense word lists read better one concept per line
export const CONCEPTS: readonly ConceptDef[] = [
  // Time and place
  {
    id: 'hours',
    es: ['horario*', 'hora', 'horas', 'abr*', 'abierto*', 'abierta*', 'abiert*', 'cerr*', 'cierr*', 'apertura', 'a que hora', 'hasta que hora', 'mediodia', 'madrugada'],
    en: ['hours', 'hour', 'open*', 'clos*', 'what time', 'opening', 'late', 'early', 'schedule*', 'timetable'],
  },
  { id: 'days', weight: 0.5, es: DAYS_ES, en: DAYS_EN },
  {
    id: 'location',
    es: ['direccion*', 'donde', 'ubica*', 'ubicad*', 'situad*', 'localiza*', 'calle', 'como llego', 'llegar', 'mapa', 'encuentro', 'encontraros', 'zona', 'barrio'],
    en: ['address*', 'where', 'locat*', 'directions', 'map', 'find you', 'get there', 'situated', 'area'],
  },
  {
    id: 'parking',
    es: ['aparc*', 'estacion*', 'coche', 'aparcar', 'plaza de garaje', 'garaje'],
    en: ['car', 'cars', 'car park', 'garage', 'park'],
    both: ['parking*'],
  },
  // Money
  {
    id: 'price',
    es: ['precio*', 'cuesta*', 'cuestan', 'cuest*', 'costar', 'coste*', 'cobr*', 'cuanto', 'cuanta', 'cuantos', 'tarifa*', 'barato*', 'caro', 'cara', 'presupuesto*', 'honorario*', 'euro*', 'importe'],
    en: ['price*', 'pric*', 'cost*', 'how much', 'fee', 'fees', 'charge*', 'expensive', 'cheap*', 'rate', 'rates', 'quote'],
  },
  {
    id: 'payment',
    es: ['pago', 'pagos', 'pagar', 'pagais', 'pagan', 'pague', 'pagarlo', 'tarjeta*', 'efectivo', 'datafono', 'transferencia*', 'forma de pago', 'formas de pago'],
    en: ['pay', 'paying', 'payment*', 'card', 'cards', 'cash', 'credit', 'debit', 'transfer'],
    both: ['bizum', 'visa', 'mastercard', 'amex', 'paypal', 'contactless', 'apple pay', 'google pay'],
  },
  {
    id: 'installments',
    es: ['plazo*', 'financ*', 'mensualidad*', 'fraccion*', 'a plazos', 'sin intereses'],
    en: ['installment*', 'instalment*', 'financ*', 'monthly payments', 'payment plan'],
  },
  { id: 'free', weight: 0.6, es: ['gratis', 'gratuit*', 'sin coste', 'sin compromiso'], en: ['free', 'no cost', 'complimentary'] },
  { id: 'discount', es: ['descuento*', 'oferta*', 'promocion*', 'rebaja*', 'cupon*'], en: ['discount*', 'special offer*', 'deal', 'deals', 'promo*', 'coupon*', 'voucher*'] },
  // Bookings and contact
  {
    id: 'booking',
    es: ['reserv*', 'cita', 'citas', 'mesa', 'mesas', 'pedir hora', 'coger hora', 'agendar', 'apuntarme'],
    en: ['book', 'booking*', 'booked', 'reserv*', 'appointment*', 'table', 'tables', 'schedule an'],
  },
  {
    id: 'contact',
    weight: 0.6,
    es: ['telefono*', 'llamar', 'llamando', 'llamo', 'llamanos', 'correo', 'email', 'contacto', 'contactar*', 'web', 'pagina web'],
    en: ['phone', 'call', 'calling', 'email', 'e mail', 'contact*', 'website', 'web'],
    both: ['whatsapp'],
  },
  // Restaurants, cafés, shops
  {
    id: 'menu',
    es: ['menu*', 'carta', 'del dia', 'diario', 'plato*', 'comer', 'comida*', 'almuerzo', 'cena', 'cenar', 'postre*', 'bebida*'],
    en: ['menu*', 'lunch', 'dinner', 'dish', 'dishes', 'food', 'eat', 'meal*', 'set menu', 'dessert*', 'drinks'],
  },
  {
    id: 'diet',
    es: ['vegetarian*', 'vegan*', 'celiac*', 'gluten', 'sin gluten', 'alergi*', 'alergen*', 'alergico*', 'intoleran*', 'lactosa', 'carne'],
    en: ['vegetarian*', 'vegan*', 'veggie', 'celiac*', 'coeliac*', 'gluten', 'gluten free', 'allerg*', 'intoleran*', 'lactose', 'dairy', 'meat', 'plant based'],
    both: ['halal', 'kosher'],
  },
  {
    id: 'delivery',
    es: ['domicilio', 'envio*', 'envi*', 'reparto', 'repartis', 'para llevar', 'recoger', 'recogida', 'pedido*', 'mandais', 'a casa'],
    en: ['deliver*', 'takeaway', 'take away', 'takeout', 'take out', 'to go', 'pickup', 'pick up', 'shipping', 'ship', 'ships', 'order online'],
    both: ['glovo', 'just eat', 'uber eats', 'deliveroo'],
  },
  { id: 'pets', es: ['mascota*', 'perro*', 'perrit*', 'gato*', 'animales'], en: ['pet', 'pets', 'dog', 'dogs', 'cat', 'cats', 'animals', 'pet friendly'] },
  { id: 'wifi', es: ['contrasena', 'clave del wifi', 'internet'], en: ['password', 'internet'], both: ['wifi', 'wi fi'] },
  { id: 'terrace', es: ['terraza*', 'aire libre', 'exterior'], en: ['terrace', 'outdoor*', 'outside', 'patio'] },
  { id: 'kids', es: ['nino*', 'ninas', 'hijo*', 'infantil', 'bebe*', 'trona*', 'menores'], en: ['kid', 'kids', 'child', 'children', 'baby', 'babies', 'high chair'] },
  { id: 'events', es: ['evento*', 'celebra*', 'cumpleanos', 'boda*', 'grupo*', 'comunion*', 'privado'], en: ['event*', 'party', 'parties', 'birthday*', 'wedding*', 'group*', 'private room'] },
  { id: 'accessibility', es: ['silla de ruedas', 'accesib*', 'rampa', 'ascensor', 'movilidad reducida'], en: ['wheelchair*', 'accessib*', 'ramp', 'elevator', 'step free'] },
  { id: 'returns', es: ['devolu*', 'devolver', 'cambiar', 'cambio*', 'reembols*'], en: ['return*', 'refund*', 'exchange*'] },
  { id: 'stock', es: ['stock', 'disponib*', 'existencias', 'quedan', 'agotado*'], en: ['stock', 'availab*', 'sold out', 'in stock'] },
  { id: 'sizes', es: ['talla*', 'tallaje', 'medida*'], en: ['size', 'sizes', 'sizing', 'fit'] },
  { id: 'warranty', es: ['garantia*'], en: ['warrant*', 'guarantee*'] },
  { id: 'gift', es: ['regalo*', 'tarjeta regalo', 'envolver'], en: ['gift*', 'gift card', 'wrap*'] },
  // Health (dentists, clinics, physiotherapists)
  {
    id: 'consultation',
    es: ['consulta', 'consultas', 'consultar', 'asesor*', 'primera visita', 'visita', 'valoracion', 'revision', 'diagnostico'],
    en: ['consult*', 'advice', 'first visit', 'assessment', 'check up', 'checkup'],
  },
  {
    id: 'online',
    es: ['online', 'en linea', 'videollamada*', 'video', 'videoconferencia', 'remot*', 'telematic*', 'a distancia', 'por telefono'],
    en: ['online', 'video*', 'video call', 'remote*', 'virtual*', 'zoom', 'by phone'],
  },
  {
    id: 'insurance',
    es: ['seguro', 'seguros', 'mutua*', 'aseguradora*', 'poliza*', 'cubre', 'cubren', 'cobertura'],
    en: ['insurance*', 'insur*', 'cover', 'covered', 'coverage', 'health plan'],
    both: ['sanitas', 'adeslas', 'dkv', 'asisa', 'mapfre', 'axa', 'muface'],
  },
  {
    id: 'teeth',
    weight: 0.6,
    es: ['diente*', 'muela*', 'dental*', 'dentista*', 'odonto*', 'boca', 'encia*'],
    en: ['tooth', 'teeth', 'dental', 'dentist*', 'molar*', 'gum', 'gums'],
  },
  { id: 'cleaning', es: ['limpieza*', 'higiene', 'sarro', 'limpiar'], en: ['cleaning', 'clean', 'hygiene', 'tartar', 'scale and polish'] },
  { id: 'whitening', es: ['blanqueamiento*', 'blanquear', 'dientes blancos'], en: ['whitening', 'whiten', 'white teeth'] },
  {
    id: 'emergency',
    es: ['urgenc*', 'urgente*', 'emergencia*', 'dolor', 'duele', 'me duele', 'hoy mismo', 'mismo dia', 'flemon', 'infeccion'],
    en: ['emergenc*', 'urgent*', 'pain', 'painful', 'hurts', 'ache', 'toothache', 'same day', 'right now', 'asap'],
  },
  { id: 'orthodontics', es: ['ortodonc*', 'bracket*', 'alineador*', 'dientes torcidos'], en: ['orthodont*', 'braces', 'aligner*', 'crooked teeth'], both: ['invisalign', 'brackets'] },
  { id: 'implants', es: ['implant*', 'protesis', 'dentadura*', 'me falta un diente', 'corona*'], en: ['implant*', 'denture*', 'missing tooth', 'crown*', 'bridge'] },
  { id: 'treatment', weight: 0.5, es: ['tratamiento*', 'tratais', 'tratan'], en: ['treatment*', 'treat', 'treats', 'procedure*'] },
  // Law offices
  { id: 'lawyer', weight: 0.5, es: ['abogad*', 'letrad*', 'bufete', 'juicio*', 'demanda*', 'tribunal*', 'juzgado*'], en: ['lawyer*', 'attorney*', 'solicitor*', 'law firm', 'court', 'lawsuit', 'sue'] },
  {
    id: 'divorce',
    es: ['divorc*', 'separa*', 'custodia', 'pension alimenticia', 'pension de alimentos', 'regimen de visitas', 'mi ex', 'matrimonio'],
    en: ['divorc*', 'separation', 'separate', 'custody', 'alimony', 'child support', 'my ex', 'marriage'],
  },
  {
    id: 'inheritance',
    es: ['herencia*', 'hered*', 'testament*', 'sucesion*', 'fallec*', 'murio', 'ha muerto', 'difunto', 'notaria*'],
    en: ['inherit*', 'testament', 'last will', 'estate', 'probate', 'deceased', 'died', 'passed away', 'heir*'],
  },
  {
    id: 'employment',
    es: ['despid*', 'despedir', 'laboral*', 'trabajo', 'trabajador*', 'jefe', 'empresa', 'finiquito*', 'salario*', 'sueldo*', 'nomina*', 'acoso', 'paro', 'echado', 'contrato de trabajo', 'me han echado'],
    en: ['fired', 'dismiss*', 'employ*', 'job', 'boss', 'wage*', 'salary', 'severance', 'workplace', 'labor', 'labour', 'laid off', 'redundan*', 'harass*'],
  },
  { id: 'documents', weight: 0.6, es: ['documenta*', 'documento*', 'papeles', 'dni', 'que tengo que llevar', 'traer'], en: ['document*', 'paperwork', 'bring', 'id'] },
  { id: 'duration', weight: 0.6, es: ['dura', 'duracion', 'cuanto tiempo', 'tarda*', 'minutos'], en: ['how long', 'duration', 'last', 'take', 'minutes'] },
  // Repairs, rentals, shops
  {
    id: 'repair',
    es: ['repar*', 'arregl*', 'taller', 'averia*', 'averiad*', 'puesta a punto', 'pinchazo', 'pinchad*', 'roto', 'rota', 'estropead*', 'no funciona', 'ruido'],
    en: ['repair*', 'fix', 'fixing', 'fixed', 'mend', 'tune up', 'broken', 'puncture*', 'flat tyre', 'flat tire', 'not working', 'noise'],
  },
  { id: 'rental', es: ['alquil*', 'arrend*'], en: ['rent', 'rents', 'rental*', 'renting', 'hire', 'hiring', 'lease'] },
  { id: 'sell', es: ['vend*', 'venta*', 'comprar', 'compro', 'compra'], en: ['sell', 'sells', 'selling', 'sale', 'for sale', 'buy', 'buying', 'purchase*'] },
  { id: 'bikes', weight: 0.6, es: ['bici', 'bicis', 'bicicleta*', 'ciclismo'], en: ['bike', 'bikes', 'bicycle*', 'cycle', 'cyclist*', 'e bike', 'e bikes', 'ebike*'] },
  { id: 'electric', es: ['electric*'], en: ['electric*'] },
  // Hair and beauty
  { id: 'haircut', es: ['pelo', 'cabello', 'corte', 'cortar*', 'cortarme', 'cortes', 'peluquer*', 'barber*', 'flequillo'], en: ['hair', 'haircut*', 'trim', 'cut', 'barber*', 'fringe'] },
  { id: 'coloring', es: ['tinte*', 'tenir*', 'teni*', 'mechas', 'balayage', 'color*', 'rubio', 'rubia', 'decolora*', 'canas'], en: ['dye*', 'colour*', 'color*', 'highlights', 'blonde', 'bleach*', 'grey hair', 'balayage'] },
  { id: 'styling', es: ['peinad*', 'pein*', 'recogido*', 'maquill*', 'novia*', 'invitad*'], en: ['styling', 'updo', 'make up', 'makeup', 'bridal', 'bride*', 'blow dry'] },
  { id: 'beauty', es: ['unas', 'manicura', 'pedicura', 'depila*', 'cejas', 'facial', 'estetica'], en: ['nails', 'manicure', 'pedicure', 'wax*', 'eyebrow*', 'facial', 'beauty'] },
  // Physiotherapy and medical
  { id: 'massage', es: ['masaje*', 'masajista', 'descontractur*', 'contractura*'], en: ['massage*', 'masseuse', 'sports massage'] },
  { id: 'physio', es: ['fisio', 'fisioterap*', 'rehabilit*', 'lesion*', 'lesionad*', 'osteopat*'], en: ['physio*', 'rehab*', 'injury', 'injuries', 'injured', 'osteopath*'] },
  { id: 'referral', es: ['receta*', 'volante', 'derivacion', 'prescripcion', 'medico', 'medica', 'mande el medico'], en: ['referral*', 'prescription*', 'doctor', 'doctors', 'gp', 'physician'] },
  { id: 'accident', es: ['accidente*'], en: ['accident*'] },
  { id: 'sport', weight: 0.5, es: ['deport*'], en: ['sport', 'sports', 'athlete*'] },
  // Gyms and studios
  {
    id: 'membership',
    es: ['cuota*', 'socio*', 'suscrip*', 'abono*', 'inscrip*', 'matricula*', 'apuntar*', 'mensual*', 'al mes', 'tarifa plana'],
    en: ['membership*', 'member*', 'subscri*', 'join*', 'sign up', 'signup', 'enrol*', 'monthly', 'per month', 'a month'],
  },
  { id: 'cancel', es: ['cancel*', 'baja', 'dar de baja', 'darme de baja', 'anular*', 'desapuntar*', 'borrarme'], en: ['cancel*', 'quit', 'terminate', 'unsubscribe', 'stop my'] },
  { id: 'trial', es: ['prueba', 'probar', 'pruebo', 'pase de dia', 'dia de prueba', 'clase de prueba'], en: ['trial', 'try', 'try out', 'day pass', 'test it'] },
  { id: 'trainer', es: ['entrenador*', 'entrenamiento personal', 'entreno personal', 'monitor*'], en: ['trainer*', 'personal training', 'coach*'] },
  {
    id: 'classes',
    es: ['clase*', 'actividad*', 'boxeo', 'actividades dirigidas'],
    en: ['class', 'classes', 'activities', 'boxing', 'group training'],
    both: ['yoga', 'spinning', 'pilates', 'hiit', 'zumba', 'crossfit', 'body pump', 'cycling'],
  },
  { id: 'facilities', es: ['ducha*', 'vestuario*', 'taquilla*', 'sauna', 'piscina', 'toalla*'], en: ['shower*', 'locker*', 'changing room*', 'changing', 'sauna', 'pool', 'towel*'] },
  { id: 'gym', weight: 0.4, es: ['gimnasio', 'gym', 'gimnasios', 'entrenar', 'entreno'], en: ['gym', 'training', 'workout', 'work out', 'train'] },
];

/**
 * Topics a business assistant must not take on (Meta's 2026 terms forbid general-purpose bots).
 * Their presence lowers every FAQ score, so only a strong business match survives.
 */
// biome-ignore format: dense word lists read better one concept per line
export const OFF_TOPIC: readonly string[] = [
  // weather
  'clima', 'que tiempo', 'tiempo va a hacer', 'tiempo hace', 'llover', 'lluvia', 'llueve', 'temperatura', 'weather', 'rain', 'forecast', 'sunny',
  // sports
  'futbol', 'partido', 'liga', 'champions', 'gol', 'goles', 'football', 'soccer', 'match', 'league', 'nba', 'gano', 'won', 'score',
  // maths and homework
  'ecuacion*', 'equation*', 'resuelve', 'resolver', 'solve', 'derivada*', 'derivative*', 'integral', 'deberes', 'homework', 'matematicas', 'math', 'maths',
  // creative writing and jokes
  'poema*', 'poem*', 'cancion*', 'song*', 'cuento', 'story', 'stories', 'chiste*', 'joke*', 'redacta', 'ensayo', 'essay', 'escribeme', 'write me',
  // general knowledge, news, entertainment, tech
  'capital', 'presidente', 'president', 'quien es', 'quien fue', 'who is', 'who was', 'wikipedia',
  'traduce', 'traducir', 'translate', 'receta*', 'recipe*', 'netflix', 'serie', 'series', 'pelicula*', 'movie*', 'film',
  'bitcoin', 'crypto*', 'stock market', 'politica', 'politics', 'eleccion*', 'election*', 'python', 'javascript',
  'girlfriend', 'boyfriend', 'horoscopo', 'horoscope',
  'sentido de la vida', 'meaning of life', 'chatgpt', 'openai',
];
