//! Word lists the seed builds its catalog from. Each category has its own product nouns so
//! that a search for "kettle" finds kitchen things and "tent" outdoor things.

/// (category name, product nouns of that category).
pub const CATEGORIES: &[(&str, &[&str])] = &[
    ("Kitchen", &["Kettle", "Frying Pan", "Saucepan", "Chef Knife", "Cutting Board", "Toaster", "Blender", "Coffee Grinder", "Teapot", "Colander", "Whisk", "Mixing Bowl"]),
    ("Electronics", &["Headphones", "Bluetooth Speaker", "USB Charger", "Power Bank", "Smartwatch", "Keyboard", "Wireless Mouse", "Webcam", "Monitor", "Router", "Earbuds", "Tablet"]),
    ("Outdoor", &["Tent", "Sleeping Bag", "Hiking Backpack", "Camping Stove", "Headlamp", "Water Bottle", "Trekking Poles", "Hammock", "Cooler", "Compass", "Rain Jacket", "Lantern"]),
    ("Home", &["Table Lamp", "Throw Pillow", "Blanket", "Curtain", "Wall Clock", "Picture Frame", "Vase", "Candle", "Doormat", "Rug", "Mirror", "Bookshelf"]),
    ("Sports", &["Yoga Mat", "Dumbbell Set", "Football", "Tennis Racket", "Basketball", "Jump Rope", "Cycling Helmet", "Running Shoes", "Resistance Band", "Swim Goggles", "Kettlebell", "Foam Roller"]),
    ("Garden", &["Garden Hose", "Pruning Shears", "Watering Can", "Planter", "Rake", "Shovel", "Wheelbarrow", "Bird Feeder", "Seed Tray", "Garden Gloves", "Sprinkler", "Compost Bin"]),
    ("Toys", &["Building Blocks", "Puzzle", "Plush Bear", "Toy Car", "Board Game", "Kite", "Dollhouse", "Train Set", "Rubber Duck", "Yo-Yo", "Spinning Top", "Water Pistol"]),
    ("Beauty", &["Face Cream", "Shampoo", "Conditioner", "Hair Dryer", "Lip Balm", "Perfume", "Nail Polish", "Body Lotion", "Hairbrush", "Face Mask", "Sunscreen", "Soap Bar"]),
    ("Office", &["Notebook", "Fountain Pen", "Desk Organizer", "Stapler", "Desk Lamp", "Office Chair", "Whiteboard", "Paper Shredder", "Binder", "Calculator", "Sticky Notes", "Pencil Case"]),
    ("Pets", &["Dog Leash", "Cat Bed", "Pet Bowl", "Chew Toy", "Scratching Post", "Dog Collar", "Litter Box", "Pet Carrier", "Aquarium", "Bird Cage", "Grooming Brush", "Pet Blanket"]),
    ("Books", &["Cookbook", "Novel", "Atlas", "Dictionary", "Poetry Collection", "Travel Guide", "Biography", "Comic Book", "Notebook Journal", "Encyclopedia", "Art Book", "Field Guide"]),
    ("Clothing", &["T-Shirt", "Hoodie", "Jeans", "Scarf", "Beanie", "Socks", "Sweater", "Raincoat", "Sneakers", "Belt", "Gloves", "Cardigan"]),
    ("Tools", &["Hammer", "Screwdriver Set", "Cordless Drill", "Tape Measure", "Wrench", "Pliers", "Spirit Level", "Utility Knife", "Toolbox", "Saw", "Socket Set", "Workbench"]),
    ("Grocery", &["Olive Oil", "Espresso Beans", "Green Tea", "Honey", "Pasta", "Dark Chocolate", "Maple Syrup", "Granola", "Peanut Butter", "Rice", "Sea Salt", "Hot Sauce"]),
    ("Baby", &["Baby Bottle", "Pacifier", "Diaper Bag", "Baby Monitor", "Crib Sheet", "High Chair", "Stroller", "Bib", "Teether", "Baby Carrier", "Play Mat", "Night Light"]),
    ("Automotive", &["Car Vacuum", "Phone Mount", "Jump Starter", "Tire Inflator", "Seat Cover", "Dash Cam", "Car Wax", "Wiper Blades", "Floor Mats", "Sun Shade", "Tow Strap", "Ice Scraper"]),
];

pub const BRANDS: &[&str] = &[
    "Acme", "Nordwind", "Bellavista", "Kestrel", "Lumen", "Oakridge", "Pinnacle", "Quanta", "Riverstone", "Solace",
    "Tundra", "Vantage", "Willow", "Zephyr", "Atlas", "Brio", "Cascade", "Dune", "Ember", "Fjord", "Granite",
    "Harbor", "Iris", "Juniper", "Kinetic", "Lark", "Maple", "Nimbus", "Orion", "Polaris", "Crème", "Élan",
];

pub const ADJECTIVES: &[&str] = &[
    "Classic", "Compact", "Deluxe", "Ergonomic", "Foldable", "Lightweight", "Portable", "Premium", "Rugged",
    "Sleek", "Smart", "Sturdy", "Vintage", "Waterproof", "Eco", "Heavy-Duty", "Minimalist", "Modern", "Rustic",
    "Ultra", "Cozy", "Professional", "Handcrafted", "Wireless",
];

pub const MATERIALS: &[&str] = &[
    "Bamboo", "Steel", "Cotton", "Leather", "Ceramic", "Oak", "Linen", "Wool", "Aluminium", "Glass", "Silicone",
    "Copper", "Walnut", "Canvas", "Recycled", "Cast Iron",
];

pub const SIZES: &[&str] = &["Mini", "Small", "Medium", "Large", "XL", "Family Size", "Travel", "Pro", "Max", "Plus"];

pub const COLOURS: &[&str] = &[
    "black", "white", "graphite", "navy", "forest green", "sand", "terracotta", "sky blue", "crimson", "ivory", "olive",
    "charcoal",
];

pub const BENEFITS: &[&str] = &[
    "built to last for years of daily use",
    "easy to clean and simple to store",
    "designed for comfort and durability",
    "a favourite gift for friends and family",
    "tested by our team in real homes",
    "made with responsibly sourced materials",
    "perfect for small spaces and busy mornings",
    "backed by a two-year warranty",
    "quiet, efficient and energy saving",
    "packed flat with recyclable packaging",
];

pub const CITIES: &[&str] = &[
    "Lisbon", "Porto", "Braga", "Coimbra", "Faro", "Aveiro", "Évora", "Madrid", "Seville", "Valencia", "Bilbao",
    "Lyon", "Nantes", "Bordeaux", "Turin", "Milan", "Munich", "Hamburg", "Vienna", "Zurich", "Ghent", "Utrecht",
    "Dublin", "Edinburgh", "Copenhagen",
];

pub const STORE_KINDS: &[&str] = &["Central", "Riverside", "Market", "Station", "Harbour", "Old Town", "Mall", "Outlet", "Plaza"];
