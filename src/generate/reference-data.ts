/**
 * Real US places and a product catalogue, so generated customers live in a city that is in their
 * state and product prices fit their category (faker's city and state pickers are independent).
 */

/** [city, state, relative weight ~ metro population in millions] */
export const US_PLACES: readonly (readonly [string, string, number])[] = [
  ['New York', 'NY', 19.5],
  ['Los Angeles', 'CA', 12.8],
  ['Chicago', 'IL', 9.3],
  ['Dallas', 'TX', 7.9],
  ['Houston', 'TX', 7.3],
  ['Washington', 'DC', 6.3],
  ['Philadelphia', 'PA', 6.2],
  ['Miami', 'FL', 6.1],
  ['Atlanta', 'GA', 6.2],
  ['Boston', 'MA', 4.9],
  ['Phoenix', 'AZ', 5.0],
  ['San Francisco', 'CA', 4.6],
  ['Riverside', 'CA', 4.6],
  ['Detroit', 'MI', 4.3],
  ['Seattle', 'WA', 4.0],
  ['Minneapolis', 'MN', 3.7],
  ['San Diego', 'CA', 3.3],
  ['Tampa', 'FL', 3.3],
  ['Denver', 'CO', 3.0],
  ['Baltimore', 'MD', 2.8],
  ['St. Louis', 'MO', 2.8],
  ['Orlando', 'FL', 2.7],
  ['Charlotte', 'NC', 2.7],
  ['San Antonio', 'TX', 2.6],
  ['Portland', 'OR', 2.5],
  ['Sacramento', 'CA', 2.4],
  ['Pittsburgh', 'PA', 2.4],
  ['Austin', 'TX', 2.4],
  ['Las Vegas', 'NV', 2.3],
  ['Cincinnati', 'OH', 2.3],
  ['Kansas City', 'MO', 2.2],
  ['Columbus', 'OH', 2.1],
  ['Indianapolis', 'IN', 2.1],
  ['Cleveland', 'OH', 2.1],
  ['San Jose', 'CA', 2.0],
  ['Nashville', 'TN', 2.0],
  ['Virginia Beach', 'VA', 1.8],
  ['Providence', 'RI', 1.7],
  ['Jacksonville', 'FL', 1.7],
  ['Milwaukee', 'WI', 1.6],
  ['Raleigh', 'NC', 1.5],
  ['Oklahoma City', 'OK', 1.4],
  ['Memphis', 'TN', 1.3],
  ['Richmond', 'VA', 1.3],
  ['Louisville', 'KY', 1.3],
  ['New Orleans', 'LA', 1.3],
  ['Salt Lake City', 'UT', 1.3],
  ['Hartford', 'CT', 1.2],
  ['Buffalo', 'NY', 1.2],
  ['Birmingham', 'AL', 1.1],
  ['Rochester', 'NY', 1.1],
  ['Tucson', 'AZ', 1.0],
  ['Honolulu', 'HI', 1.0],
  ['Tulsa', 'OK', 1.0],
  ['Omaha', 'NE', 1.0],
  ['Albuquerque', 'NM', 0.9],
  ['Boise', 'ID', 0.8],
  ['Winston-Salem', 'NC', 0.7],
  ['Des Moines', 'IA', 0.7],
  ['Little Rock', 'AR', 0.7],
  ['Charleston', 'SC', 0.8],
  ['Anchorage', 'AK', 0.4],
  ['Burlington', 'VT', 0.2],
  ['Portland', 'ME', 0.6],
  ['Fargo', 'ND', 0.3],
  ['Sioux Falls', 'SD', 0.3],
  ['Billings', 'MT', 0.2],
  ['Cheyenne', 'WY', 0.1],
  ['Manchester', 'NH', 0.4],
  ['Wilmington', 'DE', 0.7],
  ['Jackson', 'MS', 0.6],
  ['Wichita', 'KS', 0.6],
  ['Charleston', 'WV', 0.2],
];

export interface Category {
  name: string;
  /** Price range in whole dollars; prices end in .99, .49 or a round cent value. */
  minPrice: number;
  maxPrice: number;
  nouns: readonly string[];
}

export const CATEGORIES: readonly Category[] = [
  {
    name: 'Electronics',
    minPrice: 15,
    maxPrice: 1500,
    nouns: ['Headphones', 'Monitor', 'Keyboard', 'Webcam', 'Bluetooth Speaker', 'Tablet', 'Smartwatch', 'Router', 'Power Bank', 'E-Reader'],
  },
  {
    name: 'Home & Kitchen',
    minPrice: 8,
    maxPrice: 400,
    nouns: ['Blender', 'Coffee Maker', 'Skillet', 'Knife Set', 'Toaster', 'Cutting Board', 'Dinnerware Set', 'Air Fryer', 'Kettle'],
  },
  {
    name: 'Clothing',
    minPrice: 10,
    maxPrice: 220,
    nouns: ['T-Shirt', 'Hoodie', 'Jeans', 'Rain Jacket', 'Sneakers', 'Sweater', 'Dress', 'Socks (6-Pack)'],
  },
  { name: 'Books', minPrice: 5, maxPrice: 60, nouns: ['Cookbook', 'Novel', 'Travel Guide', 'Biography', 'Notebook', 'Atlas'] },
  {
    name: 'Sports & Outdoors',
    minPrice: 10,
    maxPrice: 600,
    nouns: ['Yoga Mat', 'Tent', 'Backpack', 'Water Bottle', 'Bike Helmet', 'Dumbbell Set', 'Sleeping Bag'],
  },
  { name: 'Beauty', minPrice: 5, maxPrice: 120, nouns: ['Face Cream', 'Shampoo', 'Hair Dryer', 'Perfume', 'Lip Balm', 'Sunscreen'] },
  {
    name: 'Toys & Games',
    minPrice: 5,
    maxPrice: 150,
    nouns: ['Board Game', 'Puzzle', 'Building Set', 'Plush Bear', 'Card Game', 'RC Car'],
  },
  { name: 'Grocery', minPrice: 2, maxPrice: 50, nouns: ['Coffee Beans', 'Olive Oil', 'Green Tea', 'Granola', 'Hot Sauce', 'Pasta'] },
  { name: 'Garden', minPrice: 5, maxPrice: 350, nouns: ['Hose', 'Planter', 'Pruning Shears', 'Bird Feeder', 'Lawn Sprinkler', 'Seed Kit'] },
  {
    name: 'Automotive',
    minPrice: 10,
    maxPrice: 400,
    nouns: ['Car Charger', 'Floor Mats', 'Dash Cam', 'Tire Inflator', 'Seat Covers', 'Jump Starter'],
  },
];

/** Suffixes that put a comma in some product names, which the CSV writer must quote. */
export const VARIANTS: readonly string[] = ['Black', 'Blue', 'Large', 'Small', '2-Pack', 'Refurbished', '"Pro" Edition'];

export const EMAIL_DOMAINS: readonly string[] = [
  'gmail.com',
  'yahoo.com',
  'outlook.com',
  'hotmail.com',
  'icloud.com',
  'aol.com',
  'proton.me',
];
