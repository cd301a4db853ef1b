package dev.ember.demo;

/**
 * Plain English the demo tokenizer's merges are learned from: everyday words, numbers, punctuation and a
 * little chat-style phrasing, written for this project. Changing it changes the demo tokenizer and model.
 */
final class TrainingText {
    private TrainingText() {
    }

    static final String TEXT = """
            The quick brown fox jumps over the lazy dog. Then the dog wakes up and runs after the fox,
            but the fox is already far away in the forest. This is a simple story, and it is not the end.
            Hello! How are you today? I am fine, thank you. What would you like to do this afternoon?
            We could go for a walk in the park, read a book, or cook something good for dinner together.
            There are many ways to spend an evening; some people like music, others prefer a quiet room.

            A computer program is a list of instructions that tells a machine what to do. Programs read
            input, compute results, and write output. When the data is large, the work is split across many
            machines that run at the same time, and the results are collected at the end of the job.
            Each machine keeps its own memory, so the program must send data between them with care.
            The model reads a prompt, one token after another, and predicts which token should come next.
            It repeats this step until it writes a stop token or reaches the limit of the answer length.

            In the morning the weather was cold and grey, with rain falling on the streets of the city.
            By noon the sun had come out, the sky turned blue, and children were playing in the square.
            My friend said that she would come to visit next week, on Monday or Tuesday, if the train is
            on time. She lives about 120 miles from here, which takes almost 2 hours by train and 3 by car.
            The shop opens at 9 and closes at 5, except on Sunday, when it is closed for the whole day.

            Questions are good. Ask a question, listen to the answer, and think about what it means.
            Learning takes time: first you read, then you try, then you make mistakes and try again.
            Teachers help students understand ideas, and students help each other when they work together.
            It is important to write clearly, to explain your reasons, and to check your work twice.
            People have always told stories about their lives, their families, their work and their world.

            The system should be fast, correct and easy to use. If something goes wrong, the error message
            must say what happened, which value was wrong, and how to fix it. Users do not want to guess.
            Numbers such as 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 42, 100 and 2024 appear in many documents.
            The price was $15.99, the discount was 20%, and the total came to about $12.79 after tax.
            "Where is the station?" he asked. "Go straight on, then turn left at the second light."

            Water boils at one hundred degrees, and ice melts when the temperature rises above zero.
            Plants need light, water and air to grow; animals need food, shelter and a safe place to rest.
            The history of science is full of people who were curious, patient and willing to be wrong.
            They measured, compared and wrote down what they saw, so that others could repeat the work.
            Good tools make hard work possible, but it is people who decide what the work is for.
            You are a helpful assistant. Please answer the question below in a short and friendly way.
            Sure, here is the answer. Let me know if you have any other questions about this topic.
            """;
}
